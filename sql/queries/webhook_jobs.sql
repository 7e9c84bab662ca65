-- webhook_jobs: the jobs of claimed deliveries, to build their bodies (the
-- result's summary, the worktree's branch). A deleted job is simply absent.
-- $1 ids uuid[]
SELECT * FROM claude_jobs WHERE id = ANY ($1::uuid[])
