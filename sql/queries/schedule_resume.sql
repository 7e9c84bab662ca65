-- schedule_resume: enqueue again, from the next slot after the resume (the
-- slots of the pause are not caught up: pausing meant not running them).
-- A schedule that was not paused keeps its next slot.
-- $1 name, $2 next_run_at (the first slot after now, computed by the caller)
UPDATE claude_job_schedules
SET next_run_at = CASE WHEN paused_at IS NULL THEN next_run_at ELSE $2 END,
    paused_at = NULL, updated_at = now()
WHERE name = $1
RETURNING *
