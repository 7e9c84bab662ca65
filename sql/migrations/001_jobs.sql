-- 001: the jobs table, its invariants, and the indexes the claim query needs.
-- Forward-only. Applied once, in a transaction, under the migrator's lock.

CREATE TYPE claude_job_status AS ENUM ('queued', 'running', 'finished', 'failed', 'cancelled');

CREATE TABLE claude_jobs (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kind                text NOT NULL DEFAULT 'claude',
  queue               text NOT NULL DEFAULT 'default',
  priority            integer NOT NULL DEFAULT 0,
  status              claude_job_status NOT NULL DEFAULT 'queued',
  payload             jsonb NOT NULL DEFAULT '{}',
  run_at              timestamptz NOT NULL DEFAULT now(),
  attempts            integer NOT NULL DEFAULT 0,
  max_attempts        integer NOT NULL DEFAULT 3,
  concurrency_key     text,
  worker_id           integer,
  error               text,
  errors              jsonb NOT NULL DEFAULT '[]',
  result              jsonb,
  cancel_requested_at timestamptz,
  created_at          timestamptz NOT NULL DEFAULT now(),
  started_at          timestamptz,
  finished_at         timestamptz,

  CONSTRAINT claude_jobs_kind_format CHECK (kind ~ '^[a-z][a-z0-9_.:-]{0,62}$'),
  CONSTRAINT claude_jobs_queue_format CHECK (queue ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
  CONSTRAINT claude_jobs_priority_range CHECK (priority BETWEEN -1000 AND 1000),
  CONSTRAINT claude_jobs_payload_object CHECK (jsonb_typeof(payload) = 'object'),
  CONSTRAINT claude_jobs_errors_array CHECK (jsonb_typeof(errors) = 'array'),
  CONSTRAINT claude_jobs_max_attempts_range CHECK (max_attempts BETWEEN 1 AND 1000),
  CONSTRAINT claude_jobs_attempts_range CHECK (attempts >= 0 AND attempts <= max_attempts),
  -- A running job always has an owner whose advisory lock proves it alive.
  CONSTRAINT claude_jobs_running_owned CHECK (status <> 'running' OR (worker_id IS NOT NULL AND started_at IS NOT NULL)),
  -- finished_at is set exactly when the job reached a final state.
  CONSTRAINT claude_jobs_final_has_finished_at
    CHECK ((status IN ('finished', 'failed', 'cancelled')) = (finished_at IS NOT NULL))
);

-- The claim query, all queues (`--queues=*`): due jobs by priority then run_at.
CREATE INDEX claude_jobs_claim_any ON claude_jobs (priority DESC, run_at) WHERE status = 'queued';
-- The claim query, listed queues: one index range per queue, in the same order.
CREATE INDEX claude_jobs_claim_queue ON claude_jobs (queue, priority DESC, run_at) WHERE status = 'queued';
-- One running job per concurrency key (e.g. one Claude run per checkout): the
-- database enforces it, the claim query avoids tripping it.
CREATE UNIQUE INDEX claude_jobs_running_key ON claude_jobs (concurrency_key)
  WHERE status = 'running' AND concurrency_key IS NOT NULL;
-- The rescuer and a worker's ownership check: running jobs by owner.
CREATE INDEX claude_jobs_running_worker ON claude_jobs (worker_id) WHERE status = 'running';
-- Listing by status, newest first.
CREATE INDEX claude_jobs_status_created ON claude_jobs (status, created_at DESC, id DESC);

-- Live and recently seen workers. A worker's liveness is its session advisory
-- lock (classid 17226 'CJ', objid = id), never a timestamp: this table only
-- describes workers for people (host, pid, queues).
CREATE TABLE claude_job_workers (
  id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  host        text NOT NULL,
  pid         integer NOT NULL,
  queues      text[] NOT NULL,
  concurrency integer NOT NULL CHECK (concurrency BETWEEN 1 AND 10000),
  version     text NOT NULL,
  started_at  timestamptz NOT NULL DEFAULT now(),
  stopped_at  timestamptz
);

-- Enqueue wakes idle workers in the same transaction as the insert: one
-- NOTIFY per statement and queue, and only for jobs that are due now.
CREATE FUNCTION claude_jobs_notify_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  q text;
BEGIN
  FOR q IN SELECT DISTINCT queue FROM new_jobs WHERE status = 'queued' AND run_at <= now() LOOP
    PERFORM pg_notify('claude_jobs', q);
  END LOOP;
  RETURN NULL;
END $$;

CREATE TRIGGER claude_jobs_notify_insert AFTER INSERT ON claude_jobs
  REFERENCING NEW TABLE AS new_jobs FOR EACH STATEMENT EXECUTE FUNCTION claude_jobs_notify_insert();

-- Counts of jobs in a final state (finished, failed, cancelled) per queue,
-- kept exact by statement-level triggers in the same transaction as each
-- change, so /api/stats and `claude-jobs stats` need not count the table
-- (1M rows: ~1 s; from here: ~1 ms). The live states (queued, scheduled,
-- running) are counted from the claim and running partial indexes instead,
-- exact and small. Each backend adds to its own shard (pg_backend_pid() % 16)
-- so concurrent completers do not queue on one hot row; readers sum shards.
CREATE TABLE claude_job_counts (
  queue  text NOT NULL,
  status claude_job_status NOT NULL CHECK (status IN ('finished', 'failed', 'cancelled')),
  shard  smallint NOT NULL,
  n      bigint NOT NULL,
  PRIMARY KEY (queue, status, shard)
);

-- Adds the final-state rows of new_rows and takes away those of old_rows.
-- Upserts in key order, so two transactions never lock counter rows in
-- opposite orders (no deadlock). Rows with no final state (a claim, a run-now,
-- a cancel request) write nothing.
CREATE FUNCTION claude_jobs_count_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO claude_job_counts AS c (queue, status, shard, n)
    SELECT queue, status, pg_backend_pid() % 16, count(*) FROM new_rows
    WHERE status IN ('finished', 'failed', 'cancelled')
    GROUP BY queue, status ORDER BY queue, status
    ON CONFLICT (queue, status, shard) DO UPDATE SET n = c.n + excluded.n;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO claude_job_counts AS c (queue, status, shard, n)
    SELECT queue, status, pg_backend_pid() % 16, -count(*) FROM old_rows
    WHERE status IN ('finished', 'failed', 'cancelled')
    GROUP BY queue, status ORDER BY queue, status
    ON CONFLICT (queue, status, shard) DO UPDATE SET n = c.n + excluded.n;
  ELSE
    INSERT INTO claude_job_counts AS c (queue, status, shard, n)
    SELECT queue, status, pg_backend_pid() % 16, sum(d) FROM (
      SELECT queue, status, 1 AS d FROM new_rows WHERE status IN ('finished', 'failed', 'cancelled')
      UNION ALL
      SELECT queue, status, -1 FROM old_rows WHERE status IN ('finished', 'failed', 'cancelled')
    ) delta
    GROUP BY queue, status HAVING sum(d) <> 0 ORDER BY queue, status
    ON CONFLICT (queue, status, shard) DO UPDATE SET n = c.n + excluded.n;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER claude_jobs_count_insert AFTER INSERT ON claude_jobs
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION claude_jobs_count_changes();
CREATE TRIGGER claude_jobs_count_update AFTER UPDATE ON claude_jobs
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION claude_jobs_count_changes();
CREATE TRIGGER claude_jobs_count_delete AFTER DELETE ON claude_jobs
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION claude_jobs_count_changes();

CREATE FUNCTION claude_jobs_count_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM claude_job_counts;
  RETURN NULL;
END $$;

CREATE TRIGGER claude_jobs_count_truncate AFTER TRUNCATE ON claude_jobs
  FOR EACH STATEMENT EXECUTE FUNCTION claude_jobs_count_truncate();
