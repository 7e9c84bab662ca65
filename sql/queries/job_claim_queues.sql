-- job_claim_queues: claim up to $3 due jobs from the listed queues, serving
-- them in the order listed, then priority, then run_at. Each queue is one
-- range of the partial index claude_jobs_claim_queue (a LATERAL per queue),
-- so the cost does not grow with the backlog. Paused queues are left out.
-- Budgets: the Claude jobs (kind 'claude') of a queue over its daily budget
-- are not claimed (claude_jobs_over_budget(), migration 008, read once per
-- claim); a worker that handles only Claude jobs leaves such a queue out
-- whole, rather than walking its backlog.
-- Concurrency keys and slots: as in job_claim_any.sql.
-- A worker claims only kinds it has handlers for.
-- Runs on the worker's lock session, and only there: see job_claim_any.sql.
-- $1 worker_id int, $2 queues text[] (in order), $3 limit int, $4 kinds text[], $5 lock_backend_pid int
-- started_at is clock_timestamp(), not now(): now() is the transaction's start,
-- which can precede the commit that freed this job's concurrency slot.
WITH candidates AS MATERIALIZED (
  SELECT c.*
  FROM unnest($2::text[]) WITH ORDINALITY AS q(name, ord)
  CROSS JOIN LATERAL (
    SELECT j.id, j.concurrency_key, j.concurrency_limit, j.priority, j.run_at, q.ord
    FROM claude_jobs j
    WHERE j.status = 'queued' AND j.queue = q.name AND j.run_at <= now() AND j.kind = ANY($4::text[])
      AND pg_backend_pid() = $5::int
      AND (j.kind <> 'claude' OR q.name <> ALL ((SELECT claude_jobs_over_budget())::text[]))
      AND (j.concurrency_key IS NULL OR (
        SELECT count(*) FROM claude_jobs r WHERE r.status = 'running' AND r.concurrency_key = j.concurrency_key
      ) < j.concurrency_limit)
    ORDER BY j.priority DESC, j.run_at
    LIMIT $3
    FOR UPDATE OF j SKIP LOCKED
  ) c
  WHERE NOT EXISTS (SELECT 1 FROM claude_job_queues p WHERE p.name = q.name AND p.paused_at IS NOT NULL)
    AND NOT ($4::text[] <@ '{claude}'::text[] AND q.name = ANY ((SELECT claude_jobs_over_budget())::text[]))
  ORDER BY c.ord, c.priority DESC, c.run_at
  LIMIT $3
), chosen AS (
  -- Slots as in job_claim_any.sql; a key's candidates in claim order: queue
  -- order, then priority, then run_at.
  SELECT c.id, s.slot
  FROM candidates c
  LEFT JOIN LATERAL (
    SELECT f.slot FROM generate_series(0, c.concurrency_limit - 1) AS f(slot)
    WHERE c.concurrency_key IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM claude_jobs r WHERE r.status = 'running'
                      AND r.concurrency_key = c.concurrency_key AND r.concurrency_slot = f.slot)
    OFFSET (SELECT count(*) FROM candidates e
            WHERE e.concurrency_key = c.concurrency_key AND (e.ord < c.ord OR (e.ord = c.ord AND (e.priority > c.priority OR
                  (e.priority = c.priority AND (e.run_at < c.run_at OR (e.run_at = c.run_at AND e.id < c.id)))))))
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
