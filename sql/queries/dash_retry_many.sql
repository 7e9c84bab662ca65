-- dash_retry_many: job_retry for many ids at once. Failed or cancelled jobs go
-- back to the queue, due now, with one more attempt allowed; one NOTIFY per
-- queue wakes the workers. Other jobs are left alone and not returned, and
-- so are those whose unique key another job holds now. Jobs with an
-- unfinished dependency wait for it again, its status read through a share
-- lock (see job_retry.sql).
-- $1 ids uuid[]
WITH parents AS (
  SELECT d.job_id, p.status FROM claude_job_deps d JOIN claude_jobs p ON p.id = d.parent_id
  WHERE d.job_id = ANY($1::uuid[]) ORDER BY p.id FOR SHARE OF p
), changed AS (
  UPDATE claude_jobs
  SET status = CASE WHEN EXISTS (SELECT 1 FROM parents x WHERE x.job_id = claude_jobs.id AND x.status <> 'finished')
                    THEN 'waiting'::claude_job_status ELSE 'queued'::claude_job_status END,
      run_at = now(), finished_at = NULL, cancel_requested_at = NULL,
      max_attempts = greatest(max_attempts, attempts + 1)
  WHERE id = ANY($1::uuid[]) AND status IN ('failed', 'cancelled')
    AND (unique_key IS NULL OR NOT EXISTS (
      SELECT 1 FROM claude_jobs h WHERE h.unique_key = claude_jobs.unique_key AND h.id <> claude_jobs.id
        AND h.status = ANY (h.unique_states)))
  RETURNING id, queue
), notified AS (
  SELECT pg_notify('claude_jobs', queue) FROM (SELECT DISTINCT queue FROM changed) q
)
SELECT id, (SELECT count(*) FROM notified) AS notified FROM changed
