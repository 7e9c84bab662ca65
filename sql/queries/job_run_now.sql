-- job_run_now: a scheduled (queued, run_at in the future) job becomes due now.
-- $1 id uuid
WITH changed AS (
  UPDATE claude_jobs SET run_at = now()
  WHERE id = $1 AND status = 'queued'
  RETURNING *
), notified AS (
  SELECT pg_notify('claude_jobs', queue) FROM changed
)
SELECT c.*, (SELECT count(*) FROM notified) AS notified FROM changed c
