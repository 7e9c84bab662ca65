-- schedule_claim_due: in the scheduler's transaction, lock one due, unpaused
-- schedule that no other worker is handling (SKIP LOCKED: they move on to
-- the next one), soonest first. The lock is held until the transaction that
-- enqueues its slots and moves next_run_at commits, so a worker never acts on
-- a next_run_at another worker has already moved. (The unique index on the
-- jobs' (schedule_name, schedule_slot) guarantees one job per slot anyway.)
-- $1 now (timestamptz: the worker's clock), $2 names to pass over (text[]: those
-- this tick could not handle, so one broken schedule holds up no other)
SELECT name, expression, timezone, missed, missed_limit, next_run_at
FROM claude_job_schedules
WHERE paused_at IS NULL AND next_run_at <= $1 AND name <> ALL ($2::text[])
ORDER BY next_run_at
LIMIT 1
FOR UPDATE SKIP LOCKED
