-- job_delete: removes a job that is not running (a running job must be
-- cancelled first, so no worker writes to a row that is gone).
-- $1 id uuid
DELETE FROM claude_jobs WHERE id = $1 AND status <> 'running' RETURNING id
