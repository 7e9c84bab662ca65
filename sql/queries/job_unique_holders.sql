-- job_unique_holders: the jobs that now hold these unique keys (in one of
-- their unique states), served by the partial unique index claude_jobs_unique_key.
-- $1 unique_keys text[]
SELECT id, unique_key, status FROM claude_jobs
WHERE unique_key = ANY($1::text[]) AND status = ANY (unique_states)
