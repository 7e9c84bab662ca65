-- job_retry: a failed or cancelled job goes back to the queue, due now, with
-- one more attempt allowed; its error history is kept. Wakes a worker.
-- $1 id uuid
WITH changed AS (
  UPDATE claude_jobs
  SET status = 'queued', run_at = now(), finished_at = NULL, cancel_requested_at = NULL,
      max_attempts = greatest(max_attempts, attempts + 1)
  WHERE id = $1 AND status IN ('failed', 'cancelled')
  RETURNING *
), notified AS (
  SELECT pg_notify('claude_jobs', queue) FROM changed
)
SELECT c.*, (SELECT count(*) FROM notified) AS notified FROM changed c
