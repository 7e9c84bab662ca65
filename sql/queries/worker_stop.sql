-- worker_stop: marks a worker stopped (clean shutdown).
-- $1 worker_id int
UPDATE claude_job_workers SET stopped_at = now() WHERE id = $1
