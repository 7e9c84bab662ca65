-- 002: indexes for the dashboard. The job list pages newest first by any one
-- filter (status is served by 001's claude_jobs_status_created), throughput
-- reads finished jobs by finished_at.
-- No trigram index on the prompt: every claim and completion changes
-- `status`, which is in partial-index predicates, so no update is HOT and
-- every index gets new entries twice per job; a GIN index re-inserts all of
-- the prompt's trigrams each time. Measured (claim + complete of 10,000 jobs
-- with 130-character prompts, in SQL, batches of 10, best of 3 on a loaded
-- 2-core machine): 8.5 s with it, 6.1 s without. Prompt search instead scans
-- the newest jobs (dash_job_list.sql bounds it), served by claude_jobs_created.
-- Forward-only. Applied once, in a transaction, under the migrator's lock.

CREATE INDEX claude_jobs_created ON claude_jobs (created_at DESC, id DESC);
CREATE INDEX claude_jobs_queue_created ON claude_jobs (queue, created_at DESC, id DESC);
CREATE INDEX claude_jobs_kind_created ON claude_jobs (kind, created_at DESC, id DESC);
CREATE INDEX claude_jobs_finished_at ON claude_jobs (finished_at) WHERE finished_at IS NOT NULL;
