-- queue_get: one queue's row, if it has one (no row: not paused).
-- $1 name text
SELECT name, paused_at, paused_by, updated_at FROM claude_job_queues WHERE name = $1
