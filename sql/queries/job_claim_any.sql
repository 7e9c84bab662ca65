-- job_claim_any: claim up to $2 due jobs from every queue, highest priority
-- first, then oldest run_at; served by the partial index claude_jobs_claim_any.
-- Paused queues are not claimed (their list is read once per claim), nor the
-- Claude jobs (kind 'claude') of queues over their daily budget
-- (claude_jobs_over_budget(), migration 008: also read once per claim, with
-- the claim's now(), in each queue's zone); their other kinds still run.
-- Concurrency keys: a job whose key already runs concurrency_limit jobs is
-- skipped (not blocking the jobs behind it); the others each take a free slot
-- of their key, in priority order, and those beyond the key's free slots are
-- left queued. The unique index on running (key, slot) makes N+1 impossible
-- even when two claims race (the loser fails with 23505 and claims again).
-- A worker claims only kinds it has handlers for.
-- Runs on the worker's lock session, and only there: $4 is that session's
-- backend pid, so a claim that reached a new session (the old one lost, its
-- lock with it) claims nothing: jobs it returns were claimed under the lock.
-- $1 worker_id int, $2 limit int, $3 kinds text[], $4 lock_backend_pid int
-- started_at is clock_timestamp(), not now(): now() is the transaction's start,
-- which can precede the commit that freed this job's concurrency slot.
WITH candidates AS MATERIALIZED (
  SELECT j.id, j.concurrency_key, j.concurrency_limit, j.priority, j.run_at
  FROM claude_jobs j
  WHERE j.status = 'queued' AND j.run_at <= now() AND j.kind = ANY($3::text[])
    AND pg_backend_pid() = $4::int
    AND j.queue <> ALL (ARRAY(SELECT p.name FROM claude_job_queues p WHERE p.paused_at IS NOT NULL))
    AND (j.kind <> 'claude' OR j.queue <> ALL ((SELECT claude_jobs_over_budget())::text[]))
    AND (j.concurrency_key IS NULL OR (
      SELECT count(*) FROM claude_jobs r WHERE r.status = 'running' AND r.concurrency_key = j.concurrency_key
    ) < j.concurrency_limit)
  ORDER BY j.priority DESC, j.run_at
  LIMIT $2
  FOR UPDATE SKIP LOCKED
), chosen AS (
  -- The nth candidate of a key (in claim order) takes the nth free slot of
  -- that key. The series is read in its own order in every lateral run, so
  -- distinct nth give distinct slots. (nth is counted, not ranked with a
  -- window: this session runs with sorting off, see CLAIM_SESSION_SETTINGS.)
  SELECT c.id, s.slot
  FROM candidates c
  LEFT JOIN LATERAL (
    SELECT f.slot FROM generate_series(0, c.concurrency_limit - 1) AS f(slot)
    WHERE c.concurrency_key IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM claude_jobs r WHERE r.status = 'running'
                      AND r.concurrency_key = c.concurrency_key AND r.concurrency_slot = f.slot)
    OFFSET (SELECT count(*) FROM candidates e
            WHERE e.concurrency_key = c.concurrency_key AND (e.priority > c.priority OR
                  (e.priority = c.priority AND (e.run_at < c.run_at OR (e.run_at = c.run_at AND e.id < c.id)))))
    LIMIT 1
  ) s ON true
  WHERE c.concurrency_key IS NULL OR s.slot IS NOT NULL
)
UPDATE claude_jobs j
SET status = 'running', attempts = j.attempts + 1, worker_id = $1, started_at = clock_timestamp(),
    cancel_requested_at = NULL, concurrency_slot = chosen.slot
FROM chosen
WHERE j.id = chosen.id
RETURNING j.*
