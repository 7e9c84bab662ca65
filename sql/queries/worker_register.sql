-- worker_register: a new worker row; its id keys the worker's advisory lock.
-- $1 host text, $2 pid int, $3 queues text[], $4 concurrency int, $5 version text,
-- $6 rescue_grace_ms int, $7 pid_space text, $8 pid_start text, $9 owner_token text, $10 kinds text[]
INSERT INTO claude_job_workers (host, pid, queues, concurrency, version, rescue_grace_ms, pid_space, pid_start, owner_token, kinds)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
RETURNING id, generation
