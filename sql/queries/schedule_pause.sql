-- schedule_pause: the scheduler enqueues nothing for it until it is resumed.
-- Pausing a paused schedule keeps the first pause's time. $1 name
UPDATE claude_job_schedules
SET paused_at = coalesce(paused_at, now()), updated_at = now()
WHERE name = $1
RETURNING *
