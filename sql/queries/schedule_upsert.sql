-- schedule_upsert: add a schedule, or replace the expression, time zone,
-- missed policy and job template of the one with this name (`cron add` of a
-- name that exists). A paused schedule stays paused. Its next slot is
-- recomputed from the new expression; a slot already enqueued is not enqueued
-- again (the unique index on the jobs' (schedule_name, schedule_slot)).
-- $1 name, $2 expression, $3 timezone, $4 missed ('skip' | 'once' | 'all'),
-- $5 missed_limit (int, with 'all'), $6 kind, $7 queue, $8 priority,
-- $9 payload (JSON text: cast from text, or the driver would encode it again), $10 max_attempts, $11 concurrency_key,
-- $12 concurrency_limit, $13 next_run_at, $14 unique_key, $15 unique_states
-- (an array literal like '{waiting,queued,running}', with a unique key)
INSERT INTO claude_job_schedules AS s (name, expression, timezone, missed, missed_limit, kind, queue, priority, payload,
                                       max_attempts, concurrency_key, concurrency_limit, next_run_at, unique_key, unique_states)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text::jsonb, $10, $11, $12, $13, $14, $15::text::claude_job_status[])
ON CONFLICT (name) DO UPDATE
SET expression = excluded.expression, timezone = excluded.timezone, missed = excluded.missed,
    missed_limit = excluded.missed_limit, kind = excluded.kind, queue = excluded.queue, priority = excluded.priority,
    payload = excluded.payload, max_attempts = excluded.max_attempts, concurrency_key = excluded.concurrency_key,
    concurrency_limit = excluded.concurrency_limit, unique_key = excluded.unique_key,
    unique_states = excluded.unique_states, next_run_at = excluded.next_run_at, updated_at = now()
RETURNING s.*, (xmax = 0) AS inserted
