-- 005: what decides when a job may run, beyond run_at and priority:
-- concurrency keys with a limit of N, unique jobs, dependencies, paused queues.
-- Every guarantee here is a constraint or an index of PostgreSQL, so it holds
-- for any number of workers and enqueuers, not because one process believes
-- it is alone. Forward-only. Applied once, in a transaction, under the
-- migrator's lock.

-- Concurrency keys with a limit: at most concurrency_limit jobs with one key
-- run at a time. A running keyed job holds one numbered slot of its key, and
-- (key, slot) is unique among running jobs, so N+1 can never run, whatever
-- the claimers do: a claimer that picks a slot another claimer took in the
-- same instant fails its claim (23505) and claims again. The claim query
-- takes only free slots (job_claim_*.sql). Jobs that share a key should share
-- a limit: a job takes one of the first concurrency_limit slots of its key.
ALTER TABLE claude_jobs
  ADD COLUMN concurrency_limit integer NOT NULL DEFAULT 1
    CONSTRAINT claude_jobs_concurrency_limit_range CHECK (concurrency_limit BETWEEN 1 AND 10000),
  ADD COLUMN concurrency_slot integer,
  -- Unique jobs: while a job with this key is in one of unique_states, no
  -- other job with the key can be inserted (the partial unique index below).
  ADD COLUMN unique_key text,
  ADD COLUMN unique_states claude_job_status[],
  -- Set once a job has dependents (claude_job_deps), under the row lock a
  -- dependent's insert takes: the release trigger looks at no other job.
  ADD COLUMN has_dependents boolean NOT NULL DEFAULT false;

UPDATE claude_jobs SET concurrency_slot = 0 WHERE status = 'running' AND concurrency_key IS NOT NULL;

ALTER TABLE claude_jobs
  ADD CONSTRAINT claude_jobs_slot_range CHECK (concurrency_slot >= 0 AND concurrency_slot < concurrency_limit),
  -- A running keyed job holds a slot; nothing else does.
  ADD CONSTRAINT claude_jobs_slot_when_running
    CHECK ((status = 'running' AND concurrency_key IS NOT NULL) = (concurrency_slot IS NOT NULL)),
  ADD CONSTRAINT claude_jobs_unique_key_length CHECK (length(unique_key) BETWEEN 1 AND 1000),
  -- The states a unique key counts in always include the live ones: a job
  -- moves between waiting, queued and running on its own (release, claim,
  -- retry, rescue), and none of those moves may ever meet a duplicate. The
  -- caller chooses which final states count too.
  ADD CONSTRAINT claude_jobs_unique_states
    CHECK ((unique_key IS NULL) = (unique_states IS NULL)
           AND (unique_states IS NULL OR unique_states @> '{waiting,queued,running}'::claude_job_status[]));

DROP INDEX claude_jobs_running_key;
CREATE UNIQUE INDEX claude_jobs_running_slot ON claude_jobs (concurrency_key, concurrency_slot)
  WHERE status = 'running' AND concurrency_key IS NOT NULL;
CREATE UNIQUE INDEX claude_jobs_unique_key ON claude_jobs (unique_key)
  WHERE unique_key IS NOT NULL AND status = ANY (unique_states);

-- Dependencies: job_id waits (status 'waiting') until every parent_id has
-- finished. Parents exist before their dependents are inserted, so a cycle
-- cannot be written. The rows stay after the release: they are the chain the
-- job page shows. No foreign keys: they would forbid TRUNCATE claude_jobs and
-- add two lookups to every delete; the triggers below remove the rows of
-- deleted jobs instead.
CREATE TABLE claude_job_deps (
  job_id    uuid NOT NULL,
  parent_id uuid NOT NULL,
  PRIMARY KEY (job_id, parent_id),
  CONSTRAINT claude_job_deps_not_self CHECK (job_id <> parent_id)
);
CREATE INDEX claude_job_deps_parent ON claude_job_deps (parent_id);

-- A deleted job that had not finished can never release its dependents, so
-- they end cancelled, naming it (and theirs after them, by the release trigger).
CREATE FUNCTION claude_jobs_forget_deps() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE claude_jobs j
  SET status = 'cancelled', finished_at = now(),
      error = 'cancelled because job ' || gone.parent_id || ', which it waited for, was deleted'
  FROM (
    SELECT DISTINCT ON (d.job_id) d.job_id, d.parent_id
    FROM old_rows o JOIN claude_job_deps d ON d.parent_id = o.id
    WHERE o.has_dependents AND o.status <> 'finished'
    ORDER BY d.job_id, d.parent_id
  ) gone
  WHERE j.id = gone.job_id AND j.status = 'waiting';
  DELETE FROM claude_job_deps d USING old_rows o WHERE d.job_id = o.id;
  DELETE FROM claude_job_deps d USING old_rows o WHERE o.has_dependents AND d.parent_id = o.id;
  RETURN NULL;
END $$;

CREATE TRIGGER claude_jobs_forget_deps AFTER DELETE ON claude_jobs
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION claude_jobs_forget_deps();

-- TRUNCATE claude_jobs empties the counts (001) and the dependencies with it.
CREATE OR REPLACE FUNCTION claude_jobs_count_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM claude_job_counts;
  DELETE FROM claude_job_deps;
  RETURN NULL;
END $$;
-- Counting waiting jobs per queue (stats); the lists use claude_jobs_status_created.
CREATE INDEX claude_jobs_waiting ON claude_jobs (queue) WHERE status = 'waiting';

-- When a job with dependents reaches a final state, in the same transaction:
-- a finished parent releases each dependent whose parents have all finished
-- (waiting -> queued, and idle workers are woken when it is due); a parent
-- that failed or was cancelled cancels its waiting dependents, naming
-- itself. A cancelled dependent is a final state too, so the trigger fires
-- again for its own dependents, down the chain. For the statements of
-- ordinary jobs (no dependents) it reads the changed rows once and returns.
-- Two parents of one dependent may end at once, in two transactions: each
-- would see the other still running and neither release it. So the
-- dependents are locked first (in id order, as every multi-row writer locks),
-- in a statement of their own, and their parents are read by the next
-- statement, whose snapshot is taken once the lock is held: the second of
-- two such transactions waits for the first to commit, then sees its parent
-- finished.
CREATE FUNCTION claude_jobs_release_dependents() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  dependents uuid[];
  q text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM new_rows WHERE has_dependents AND status IN ('finished', 'failed', 'cancelled')) THEN
    RETURN NULL;
  END IF;
  dependents := ARRAY(
    SELECT DISTINCT d.job_id FROM new_rows n
    JOIN old_rows o ON o.id = n.id
    JOIN claude_job_deps d ON d.parent_id = n.id
    WHERE n.has_dependents AND n.status IN ('finished', 'failed', 'cancelled') AND o.status <> n.status);
  IF cardinality(dependents) = 0 THEN
    RETURN NULL;
  END IF;
  PERFORM 1 FROM claude_jobs j WHERE j.id = ANY (dependents) AND j.status = 'waiting' ORDER BY j.id FOR UPDATE OF j;
  FOR q IN
    WITH verdict AS (
      SELECT j.id, b.id AS broken_parent, b.status AS broken_status,
             NOT EXISTS (SELECT 1 FROM claude_job_deps d JOIN claude_jobs p ON p.id = d.parent_id
                         WHERE d.job_id = j.id AND p.status <> 'finished') AS ready
      FROM claude_jobs j
      LEFT JOIN LATERAL (
        SELECT p.id, p.status FROM claude_job_deps d JOIN claude_jobs p ON p.id = d.parent_id
        WHERE d.job_id = j.id AND p.status IN ('failed', 'cancelled') ORDER BY p.id LIMIT 1
      ) b ON true
      WHERE j.id = ANY (dependents) AND j.status = 'waiting'
    ), changed AS (
      UPDATE claude_jobs j
      SET status = CASE WHEN v.broken_parent IS NOT NULL THEN 'cancelled'::claude_job_status ELSE 'queued'::claude_job_status END,
          run_at = CASE WHEN v.broken_parent IS NOT NULL THEN j.run_at ELSE greatest(j.run_at, now()) END,
          finished_at = CASE WHEN v.broken_parent IS NOT NULL THEN now() END,
          -- A Claude job that continues the session of a job it waited for
          -- (payload.resume = that job's id) gets its final session id now.
          payload = CASE WHEN v.broken_parent IS NULL AND j.kind = 'claude' AND j.payload ? 'resume'
                         THEN coalesce((SELECT jsonb_set(j.payload, '{resume}', to_jsonb(p.result->>'sessionId'))
                                        FROM claude_job_deps d JOIN claude_jobs p ON p.id = d.parent_id
                                        WHERE d.job_id = j.id AND p.id::text = j.payload->>'resume'
                                          AND p.result->>'sessionId' <> ''), j.payload)
                         ELSE j.payload END,
          error = CASE WHEN v.broken_parent IS NULL THEN j.error
                       ELSE 'cancelled because job ' || v.broken_parent || ', which it waited for, ' ||
                            CASE v.broken_status WHEN 'failed' THEN 'failed' ELSE 'was cancelled' END END
      FROM verdict v
      WHERE j.id = v.id AND (v.broken_parent IS NOT NULL OR v.ready)
      RETURNING j.queue, j.status, j.run_at
    )
    SELECT DISTINCT c.queue FROM changed c WHERE c.status = 'queued' AND c.run_at <= now()
  LOOP
    PERFORM pg_notify('claude_jobs', q);
  END LOOP;
  RETURN NULL;
END $$;

CREATE TRIGGER claude_jobs_release_dependents AFTER UPDATE ON claude_jobs
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION claude_jobs_release_dependents();

-- Queues as things of their own: paused or not (and, later, their budgets).
-- A queue with no row here is not paused. A paused queue is claimed by no
-- worker (job_claim_*.sql); its running jobs finish.
CREATE TABLE claude_job_queues (
  name       text PRIMARY KEY CONSTRAINT claude_job_queues_name_format CHECK (name ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
  paused_at  timestamptz,
  paused_by  text,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- The jobs sharing one worktree and branch (a root job and its follow-ups,
-- whose payload names the root in worktree_of), for the job page's chain
-- (sql/queries/chain_jobs.sql): without it that query scans every job
-- enqueued after the root (~0.5 s past 300k). Partial: only follow-ups have
-- an entry.
CREATE INDEX claude_jobs_worktree_of ON claude_jobs ((payload->>'worktree_of')) WHERE payload ? 'worktree_of';
