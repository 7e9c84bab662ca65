-- worker_lock: the worker's heartbeat, taken on its reserved connection for
-- its whole life. PostgreSQL releases it when the session ends for any reason.
-- $1 worker_id int
SELECT pg_try_advisory_lock(17226, $1) AS locked
