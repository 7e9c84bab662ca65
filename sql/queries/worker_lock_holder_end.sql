-- worker_lock_holder_end: ends the session that still holds a worker's lock:
-- only ever our own earlier session, which PostgreSQL has not yet found dead
-- (a cut connection lives on the server until keepalives give up). Its jobs
-- are ours and were never suspected: the lock was held all along.
-- $1 worker_id int
SELECT pg_terminate_backend(pid) AS ended FROM pg_locks
WHERE locktype = 'advisory' AND classid = 17226 AND objsubid = 2 AND granted
  AND objid::integer = $1
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND pid <> pg_backend_pid()
