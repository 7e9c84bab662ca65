-- job_cancel: a queued or waiting job ends cancelled at once (and its own
-- dependents with it: the release trigger); a running job gets a cancel
-- request that its worker hears (NOTIFY claude_jobs_cancel, polling as the
-- fallback) and acts on. Jobs in a final state are returned unchanged.
-- $1 id uuid
WITH target AS (
  SELECT id, status FROM claude_jobs WHERE id = $1 FOR UPDATE
), changed AS (
  UPDATE claude_jobs j
  SET status = CASE WHEN t.status IN ('queued', 'waiting') THEN 'cancelled'::claude_job_status ELSE j.status END,
      finished_at = CASE WHEN t.status IN ('queued', 'waiting') THEN now() ELSE j.finished_at END,
      cancel_requested_at = now()
  FROM target t
  WHERE j.id = t.id AND t.status IN ('waiting', 'queued', 'running')
  RETURNING j.*
), notified AS (
  SELECT pg_notify('claude_jobs_cancel', id::text) FROM changed WHERE status = 'running'
)
SELECT c.*, (SELECT count(*) FROM notified) AS notified FROM changed c
UNION ALL
SELECT j.*, 0 FROM claude_jobs j JOIN target t ON t.id = j.id WHERE t.status NOT IN ('waiting', 'queued', 'running')
