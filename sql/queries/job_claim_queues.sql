-- job_claim_queues: claim up to $3 due jobs from the listed queues, serving
-- them in the order listed, then priority, then run_at. Each queue is one
-- range of the partial index claude_jobs_claim_queue (a LATERAL per queue),
-- so the cost does not grow with the backlog.
-- A worker claims only kinds it has handlers for.
-- Runs on the worker's lock session, and only there: see job_claim_any.sql.
-- $1 worker_id int, $2 queues text[] (in order), $3 limit int, $4 kinds text[], $5 lock_backend_pid int
-- started_at is clock_timestamp(), not now(): now() is the transaction's start,
-- which can precede the commit that freed this job's concurrency key.
WITH candidates AS MATERIALIZED (
  SELECT c.*
  FROM unnest($2::text[]) WITH ORDINALITY AS q(name, ord)
  CROSS JOIN LATERAL (
    SELECT j.id, j.concurrency_key, j.priority, j.run_at, q.ord
    FROM claude_jobs j
    WHERE j.status = 'queued' AND j.queue = q.name AND j.run_at <= now() AND j.kind = ANY($4::text[])
      AND pg_backend_pid() = $5::int
      AND (j.concurrency_key IS NULL OR NOT EXISTS (
        SELECT 1 FROM claude_jobs r WHERE r.status = 'running' AND r.concurrency_key = j.concurrency_key))
    ORDER BY j.priority DESC, j.run_at
    LIMIT $3
    FOR UPDATE OF j SKIP LOCKED
  ) c
  ORDER BY c.ord, c.priority DESC, c.run_at
  LIMIT $3
), chosen AS (
  SELECT DISTINCT ON (coalesce(c.concurrency_key, c.id::text)) c.id
  FROM candidates c
  ORDER BY coalesce(c.concurrency_key, c.id::text), c.ord, c.priority DESC, c.run_at
)
UPDATE claude_jobs j
SET status = 'running', attempts = j.attempts + 1, worker_id = $1, started_at = clock_timestamp(),
    cancel_requested_at = NULL
FROM chosen
WHERE j.id = chosen.id
RETURNING j.*
