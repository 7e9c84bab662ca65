-- retention_worktrees_in_use: which of these worktrees (by root job id: the
-- job that created one, whose follow-ups share it) a live job still works
-- in or will: a waiting, queued or running Claude job that recorded it or
-- names it in payload.worktree_of. Retention leaves those folders alone.
-- $1 root_job_ids text[] (lower case)
SELECT DISTINCT r.root
FROM claude_jobs j
CROSS JOIN LATERAL (SELECT lower(coalesce(j.result->'worktree'->>'rootJobId', j.payload->>'worktree_of', j.id::text)) AS root) r
WHERE j.status IN ('waiting', 'queued', 'running') AND j.kind = 'claude' AND r.root = ANY($1::text[])
