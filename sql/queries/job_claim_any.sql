-- job_claim_any: claim up to $2 due jobs from every queue, highest priority
-- first, then oldest run_at; served by the partial index claude_jobs_claim_any.
-- Jobs whose concurrency key is already running are skipped (not blocking the
-- jobs behind them); two candidates with one key: only the first is taken.
-- A worker claims only kinds it has handlers for.
-- Runs on the worker's lock session, and only there: $4 is that session's
-- backend pid, so a claim that reached a new session (the old one lost, its
-- lock with it) claims nothing: jobs it returns were claimed under the lock.
-- $1 worker_id int, $2 limit int, $3 kinds text[], $4 lock_backend_pid int
-- started_at is clock_timestamp(), not now(): now() is the transaction's start,
-- which can precede the commit that freed this job's concurrency key.
WITH candidates AS MATERIALIZED (
  SELECT j.id, j.concurrency_key, j.priority, j.run_at
  FROM claude_jobs j
  WHERE j.status = 'queued' AND j.run_at <= now() AND j.kind = ANY($3::text[])
    AND pg_backend_pid() = $4::int
    AND (j.concurrency_key IS NULL OR NOT EXISTS (
      SELECT 1 FROM claude_jobs r WHERE r.status = 'running' AND r.concurrency_key = j.concurrency_key))
  ORDER BY j.priority DESC, j.run_at
  LIMIT $2
  FOR UPDATE SKIP LOCKED
), chosen AS (
  SELECT DISTINCT ON (coalesce(c.concurrency_key, c.id::text)) c.id
  FROM candidates c
  ORDER BY coalesce(c.concurrency_key, c.id::text), c.priority DESC, c.run_at
)
UPDATE claude_jobs j
SET status = 'running', attempts = j.attempts + 1, worker_id = $1, started_at = clock_timestamp(),
    cancel_requested_at = NULL
FROM chosen
WHERE j.id = chosen.id
RETURNING j.*
