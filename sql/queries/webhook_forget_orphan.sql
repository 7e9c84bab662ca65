-- webhook_forget_orphan: a delivery that is done (delivered or failed) whose
-- job was deleted while it was pending is deleted too, with its attempts: the
-- job's delete trigger removes only the deliveries already done, so nothing
-- else would. Returns the id when it was deleted.
-- $1 id bigint
DELETE FROM claude_job_deliveries d
WHERE d.id = $1 AND d.state <> 'pending' AND NOT EXISTS (SELECT 1 FROM claude_jobs j WHERE j.id = d.job_id)
RETURNING d.id
