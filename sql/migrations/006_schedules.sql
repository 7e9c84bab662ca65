-- 006: recurring jobs (schedules). A schedule is a cron expression in a time
-- zone and the job it enqueues at each of its slots (the times the expression
-- names). Every worker runs the scheduler (src/schedule/scheduler.ts); what
-- keeps any number of them from enqueueing a slot twice is the unique index
-- on the jobs' (schedule_name, schedule_slot) below, not the belief that one
-- worker is the leader. Forward-only. Applied once, in a transaction, under
-- the migrator's lock.

CREATE TABLE claude_job_schedules (
  -- Printable text a person types on the command line and reads on the
  -- dashboard: no control characters, no '/' (it is a path segment of the
  -- API), no surrounding spaces.
  name          text PRIMARY KEY,
  -- The 5-field cron expression or @alias, as given; checked by the program
  -- (croner) before it is stored: the database cannot parse cron.
  expression    text NOT NULL,
  -- An IANA time zone name; the slots are wall-clock times there.
  timezone      text NOT NULL DEFAULT 'UTC',
  -- What a tick does with slots whose time passed while no worker ran
  -- (src/schedule/missed.ts): skip them, enqueue one catch-up job for the
  -- latest (once, the default), or the latest missed_limit of them (all:N).
  missed        text NOT NULL DEFAULT 'once',
  missed_limit  integer,
  -- The job template: what enqueueing it gives, already validated as an
  -- enqueue is (and with the kind's own payload rules applied), so that the
  -- scheduler can insert it in SQL without the handlers at hand. Same checks
  -- as claude_jobs.
  kind              text NOT NULL,
  queue             text NOT NULL,
  priority          integer NOT NULL,
  payload           jsonb NOT NULL,
  max_attempts      integer NOT NULL,
  concurrency_key   text,
  concurrency_limit integer NOT NULL DEFAULT 1,
  -- A unique key makes a slot whose previous job still holds the key
  -- enqueue nothing (no pile-up of runs of a slow job); see 005.
  unique_key        text,
  unique_states     claude_job_status[],
  -- Paused: the scheduler enqueues nothing; `cron run` still does. Resuming
  -- starts again from the next slot, it does not catch up the pause.
  paused_at     timestamptz,
  -- The first slot not yet handled; null once the expression names no later time.
  next_run_at   timestamptz,
  -- The latest job this schedule enqueued (by a slot or by `cron run`) and
  -- its time (the slot's, or when it was run by hand).
  last_run_at   timestamptz,
  last_job_id   uuid,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),

  CONSTRAINT claude_job_schedules_name_format
    CHECK (length(name) BETWEEN 1 AND 100 AND name !~ '[[:cntrl:]/]' AND name = btrim(name)),
  CONSTRAINT claude_job_schedules_expression_length CHECK (length(expression) BETWEEN 1 AND 200),
  CONSTRAINT claude_job_schedules_timezone_length CHECK (length(timezone) BETWEEN 1 AND 100),
  CONSTRAINT claude_job_schedules_missed
    CHECK (missed IN ('skip', 'once', 'all') AND (missed = 'all') = (missed_limit IS NOT NULL)
           AND (missed_limit IS NULL OR missed_limit BETWEEN 1 AND 1000)),
  CONSTRAINT claude_job_schedules_kind_format CHECK (kind ~ '^[a-z][a-z0-9_.:-]{0,62}$'),
  CONSTRAINT claude_job_schedules_queue_format CHECK (queue ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
  CONSTRAINT claude_job_schedules_priority_range CHECK (priority BETWEEN -1000 AND 1000),
  CONSTRAINT claude_job_schedules_payload_object CHECK (jsonb_typeof(payload) = 'object'),
  CONSTRAINT claude_job_schedules_max_attempts_range CHECK (max_attempts BETWEEN 1 AND 1000),
  CONSTRAINT claude_job_schedules_concurrency_limit_range CHECK (concurrency_limit BETWEEN 1 AND 10000),
  CONSTRAINT claude_job_schedules_unique_states
    CHECK ((unique_key IS NULL) = (unique_states IS NULL)
           AND (unique_states IS NULL OR unique_states @> '{waiting,queued,running}'::claude_job_status[]))
);

-- The scheduler's tick: the due, unpaused schedules, soonest first.
CREATE INDEX claude_job_schedules_due ON claude_job_schedules (next_run_at)
  WHERE paused_at IS NULL AND next_run_at IS NOT NULL;

-- A job enqueued by a schedule names it, and the slot it is for (null when
-- it was run by hand: `cron run`). No foreign key: a schedule can be removed
-- while its jobs stay, and they still say where they came from.
ALTER TABLE claude_jobs
  ADD COLUMN schedule_name text,
  ADD COLUMN schedule_slot timestamptz,
  ADD CONSTRAINT claude_jobs_slot_has_schedule CHECK (schedule_slot IS NULL OR schedule_name IS NOT NULL);

-- Exactly one job per slot, whatever the number of workers: every scheduler
-- inserts a slot's job with ON CONFLICT DO NOTHING, so when two reach the same
-- slot (a race, a slow clock, a schedule updated from a host whose clock is
-- behind) the second insert waits for the first to commit and then inserts
-- nothing. A slot is never lost either: next_run_at moves past a slot only in
-- the transaction that inserted its job (or, by the missed policy, chose to
-- skip it). Also serves "the last job of a schedule".
CREATE UNIQUE INDEX claude_jobs_schedule_slot ON claude_jobs (schedule_name, schedule_slot)
  WHERE schedule_name IS NOT NULL;
