-- job_retry: a failed or cancelled job goes back to the queue, due now, with
-- one more attempt allowed; its error history is kept. Wakes a worker. A job
-- with a dependency that has not finished waits for it again instead (it is
-- released when that one finishes: retry the failed parent too).
-- $1 id uuid
WITH changed AS (
  UPDATE claude_jobs
  SET status = CASE WHEN EXISTS (SELECT 1 FROM claude_job_deps d JOIN claude_jobs p ON p.id = d.parent_id
                               WHERE d.job_id = claude_jobs.id AND p.status <> 'finished')
                   THEN 'waiting'::claude_job_status ELSE 'queued'::claude_job_status END,
      run_at = now(), finished_at = NULL, cancel_requested_at = NULL,
      max_attempts = greatest(max_attempts, attempts + 1)
  WHERE id = $1 AND status IN ('failed', 'cancelled')
  RETURNING *
), notified AS (
  SELECT pg_notify('claude_jobs', queue) FROM changed
)
SELECT c.*, (SELECT count(*) FROM notified) AS notified FROM changed c
