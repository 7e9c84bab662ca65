-- schedule_claim_due: one due, unpaused schedule, soonest first, read
-- without a lock: the statement that enqueues its slots (schedule_enqueue.sql)
-- locks the row itself and acts only if next_run_at is still what was read
-- here, so a worker never acts on a next_run_at another worker has already
-- moved. (The unique index on the jobs' (schedule_name, schedule_slot)
-- guarantees one job per slot anyway.) No transaction spans the two: the
-- worker's connections run single statements (src/db/session.ts).
-- $1 now (timestamptz: the worker's clock), $2 names to pass over (text[]: those
-- this tick could not handle or lost to another worker, so one schedule holds up no other)
SELECT name, expression, timezone, missed, missed_limit, next_run_at
FROM claude_job_schedules
WHERE paused_at IS NULL AND next_run_at <= $1 AND name <> ALL ($2::text[])
ORDER BY next_run_at
LIMIT 1
