-- job_get: one job by id.
-- $1 id uuid
SELECT * FROM claude_jobs WHERE id = $1
