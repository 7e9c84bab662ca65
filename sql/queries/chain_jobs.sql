-- chain_jobs: the jobs that share one root job's worktree and branch: the
-- root itself and every Claude job whose payload names it in worktree_of
-- (its follow-ups, and theirs), oldest first, each with the job it follows
-- up (payload.follow_up_of) and the jobs it waits for (claude_job_deps).
-- Follow-ups are enqueued after their root and ids are UUIDv7 (time
-- ordered), so `id > $1` lets the primary key skip every older job.
-- $1 root job id uuid
-- $2 most rows int
SELECT j.id, j.status, j.run_at, j.created_at, j.finished_at,
       left(j.payload->>'prompt', 300) AS prompt,
       j.payload->>'follow_up_of' AS follow_up_of,
       ARRAY(SELECT d.parent_id FROM claude_job_deps d WHERE d.job_id = j.id ORDER BY d.parent_id) AS parents
FROM claude_jobs j
WHERE j.id = $1
   OR (j.id > $1 AND j.kind = 'claude' AND j.payload->>'worktree_of' = $1::text)
ORDER BY j.created_at, j.id
LIMIT $2
