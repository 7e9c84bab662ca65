-- job_deps_insert: records that $1 waits for each of $2.
-- $1 job_id uuid, $2 parent_ids uuid[]
INSERT INTO claude_job_deps (job_id, parent_id)
SELECT $1::uuid, p FROM unnest($2::uuid[]) AS p
ON CONFLICT DO NOTHING
