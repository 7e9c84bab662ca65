-- 003: a lost lock is first a suspicion, then a death.
-- A worker's advisory lock vanishes when its process dies, but also when only
-- its session does (a restart of PostgreSQL, a terminated backend, a proxy
-- restart) while the worker lives and runs its jobs. So a rescuer that finds
-- a lock missing records when it first saw that (per lock generation: every
-- re-take of the lock counts one up) and rescues only after the grace the
-- worker itself declared, which is longer than the worker needs to notice,
-- stop its jobs and their processes (src/worker/liveness.ts). A rescuer on the
-- worker's own host that sees its process gone, and no process it started
-- left, needs no grace. See job_rescue.sql.

ALTER TABLE claude_job_workers
  -- Counts the worker's lock sessions: 1 at registration, +1 at each re-take.
  ADD COLUMN generation integer NOT NULL DEFAULT 1,
  -- How long after its lock is first seen missing the worker's jobs may be
  -- taken. 0 (workers of older versions): at once, as before.
  ADD COLUMN rescue_grace_ms integer NOT NULL DEFAULT 0
    CONSTRAINT claude_job_workers_rescue_grace_range CHECK (rescue_grace_ms BETWEEN 0 AND 86400000),
  -- Where `pid` means this process: the boot and the pid namespace.
  ADD COLUMN pid_space text,
  -- The process's start time (/proc/PID/stat), so a reused pid is not taken for it.
  ADD COLUMN pid_start text,
  -- The value of CLAUDE_JOBS_OWNER in the environment of every process it started.
  ADD COLUMN owner_token text,
  -- The suspicion: since when, and for which generation, a rescuer saw the lock missing.
  ADD COLUMN lock_missing_since timestamptz,
  ADD COLUMN lock_missing_generation integer,
  -- The job kinds it has handlers for (it claims no other): so that a job no
  -- live worker can run is shown as such, not left waiting in silence.
  -- NULL: a worker of an older version (kinds unknown).
  ADD COLUMN kinds text[];
