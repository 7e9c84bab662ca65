-- job_dependencies: what a job waits for (its parents) and what waits for it
-- (its dependents), each with where it stands, for the job page and `show`.
-- Served by claude_job_deps' primary key (job_id, ...) and its parent_id index.
-- $1 id uuid, $2 most rows of each relation int
(SELECT 'parent' AS relation, p.id, p.kind, p.status, p.run_at, left(p.payload->>'prompt', 200) AS prompt
 FROM claude_job_deps d JOIN claude_jobs p ON p.id = d.parent_id
 WHERE d.job_id = $1 ORDER BY p.id LIMIT $2)
UNION ALL
(SELECT 'dependent', c.id, c.kind, c.status, c.run_at, left(c.payload->>'prompt', 200)
 FROM claude_job_deps d JOIN claude_jobs c ON c.id = d.job_id
 WHERE d.parent_id = $1 ORDER BY c.id LIMIT $2)
