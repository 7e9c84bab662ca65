-- job_retry: a failed or cancelled job goes back to the queue, due now, with
-- one more attempt allowed; its error history is kept. Wakes a worker. A job
-- with a dependency that has not finished waits for it again instead (it is
-- released when that one finishes: retry the failed parent too). The parents'
-- statuses are read through a share lock, not the statement's snapshot: a
-- parent finishing at this moment either has committed (seen finished) or
-- waits for this retry, and then its release trigger sees this job waiting.
-- A job whose unique key another job holds now is left alone (not returned).
-- $1 id uuid
WITH parents AS (
  SELECT p.id, p.status FROM claude_job_deps d JOIN claude_jobs p ON p.id = d.parent_id
  WHERE d.job_id = $1 ORDER BY p.id FOR SHARE OF p
), changed AS (
  UPDATE claude_jobs
  SET status = CASE WHEN EXISTS (SELECT 1 FROM parents x WHERE x.status <> 'finished')
                    THEN 'waiting'::claude_job_status ELSE 'queued'::claude_job_status END,
      run_at = now(), finished_at = NULL, cancel_requested_at = NULL,
      max_attempts = greatest(max_attempts, attempts + 1)
  WHERE id = $1 AND status IN ('failed', 'cancelled')
    AND (unique_key IS NULL OR NOT EXISTS (
      SELECT 1 FROM claude_jobs h WHERE h.unique_key = claude_jobs.unique_key AND h.id <> claude_jobs.id
        AND h.status = ANY (h.unique_states)))
  RETURNING *
), notified AS (
  SELECT pg_notify('claude_jobs', queue) FROM changed
)
SELECT c.*, (SELECT count(*) FROM notified) AS notified FROM changed c
