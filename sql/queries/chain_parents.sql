-- chain_parents: the jobs one job waits for (claude_job_deps), for its chain
-- when its payload names no follow_up_of.
-- $1 job id uuid
SELECT d.parent_id FROM claude_job_deps d WHERE d.job_id = $1 ORDER BY d.parent_id
