-- 002: indexes for the dashboard. The job list pages newest first by any one
-- filter (status is served by 001's claude_jobs_status_created), throughput
-- reads finished jobs by finished_at, and prompt search uses trigrams when
-- the pg_trgm extension can be created (else search still works, unindexed).
-- Forward-only. Applied once, in a transaction, under the migrator's lock.

CREATE INDEX claude_jobs_created ON claude_jobs (created_at DESC, id DESC);
CREATE INDEX claude_jobs_queue_created ON claude_jobs (queue, created_at DESC, id DESC);
CREATE INDEX claude_jobs_kind_created ON claude_jobs (kind, created_at DESC, id DESC);
CREATE INDEX claude_jobs_finished_at ON claude_jobs (finished_at) WHERE finished_at IS NOT NULL;

-- pg_trgm is a trusted contrib extension (PostgreSQL 13+), present in Debian's
-- and the embedded server's builds; a server without it only loses the index.
DO $$
BEGIN
  CREATE EXTENSION IF NOT EXISTS pg_trgm;
  CREATE INDEX claude_jobs_prompt_trgm ON claude_jobs USING gin ((payload ->> 'prompt') gin_trgm_ops);
EXCEPTION WHEN OTHERS THEN
  RAISE NOTICE 'pg_trgm unavailable (%): prompt search runs without an index', SQLERRM;
END $$;
