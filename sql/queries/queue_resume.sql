-- queue_resume: resumes a paused queue and wakes idle workers in the same
-- transaction (NOTIFY claude_jobs with the queue's name, as an insert does:
-- 001_jobs.sql), so its jobs are claimed at once, not at the next poll.
-- The row stays (paused_at NULL): a queue's row is where its settings live.
-- Resuming a queue that is not paused returns no row and notifies nobody.
-- $1 name text
WITH resumed AS (
  UPDATE claude_job_queues
  SET paused_at = NULL, paused_by = NULL, updated_at = now()
  WHERE name = $1 AND paused_at IS NOT NULL
  RETURNING name, paused_at, paused_by, updated_at
)
SELECT r.name, r.paused_at, r.paused_by, r.updated_at, pg_notify('claude_jobs', r.name) IS NOT NULL AS notified
FROM resumed r
