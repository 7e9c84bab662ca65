-- worker_register: a new worker row; its id keys the worker's advisory lock.
-- $1 host text, $2 pid int, $3 queues text[], $4 concurrency int, $5 version text
INSERT INTO claude_job_workers (host, pid, queues, concurrency, version)
VALUES ($1, $2, $3, $4, $5)
RETURNING id
