-- dash_cancel_many: job_cancel for many ids at once. Queued jobs end cancelled
-- now; running jobs get a cancel request their worker hears (NOTIFY
-- claude_jobs_cancel). Jobs in a final state are left alone and not returned.
-- $1 ids uuid[]
WITH target AS (
  SELECT id, status FROM claude_jobs
  WHERE id = ANY($1::uuid[]) AND status IN ('waiting', 'queued', 'running')
  ORDER BY id
  FOR UPDATE
), changed AS (
  UPDATE claude_jobs j
  SET status = CASE WHEN t.status IN ('queued', 'waiting') THEN 'cancelled'::claude_job_status ELSE j.status END,
      finished_at = CASE WHEN t.status IN ('queued', 'waiting') THEN now() ELSE j.finished_at END,
      cancel_requested_at = now()
  FROM target t
  WHERE j.id = t.id
  RETURNING j.id, j.status
), notified AS (
  SELECT pg_notify('claude_jobs_cancel', id::text) FROM changed WHERE status = 'running'
)
SELECT id, status, (SELECT count(*) FROM notified) AS notified FROM changed
