-- schedule_delete: remove a schedule. Its jobs stay (they keep its name).
-- $1 name. Returns the name when there was one.
DELETE FROM claude_job_schedules WHERE name = $1 RETURNING name
