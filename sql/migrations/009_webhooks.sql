-- 009: webhooks. A job (claude_job_webhooks) or a queue
-- (claude_job_queue_webhooks) names a URL to POST to when the job ends or
-- is parked on a usage limit. Each such event is a row of the outbox
-- (claude_job_deliveries), written by a trigger in the same transaction as
-- the job's change, so an event is never lost with a worker; every worker's
-- delivery task (src/notify/deliver.ts) sends it later, never in the way
-- of the job. Forward-only. Applied once, in a transaction, under the
-- migrator's lock.

-- Set with a job's own webhook, in the same statement (webhook_job_set.sql):
-- the outbox trigger tells the jobs that have one from the rows it is
-- given, with no lookup for the others. Adding a column with a constant
-- default rewrites nothing.
ALTER TABLE claude_jobs ADD COLUMN has_webhook boolean NOT NULL DEFAULT false;

-- A job's own webhook, set at enqueue in the enqueue's transaction
-- (src/notify/webhooks.ts). No foreign key (it would forbid TRUNCATE
-- claude_jobs and add a lookup to every delete); the delete trigger below
-- removes the rows of deleted jobs.
CREATE TABLE claude_job_webhooks (
  job_id     uuid PRIMARY KEY,
  url        text NOT NULL CONSTRAINT claude_job_webhooks_url CHECK (url ~ '^https?://' AND length(url) <= 2000),
  -- HMAC key of the signature header; null: CLAUDE_JOBS_WEBHOOK_SECRET of the delivering worker, if any.
  secret     text CONSTRAINT claude_job_webhooks_secret CHECK (length(secret) BETWEEN 1 AND 1000),
  -- A JSON template for the body ({{status}} ...); null: the full event.
  template   text CONSTRAINT claude_job_webhooks_template CHECK (length(template) BETWEEN 1 AND 10000),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- A queue's webhook: every job of the queue (those enqueued before it was set too).
CREATE TABLE claude_job_queue_webhooks (
  queue      text PRIMARY KEY CONSTRAINT claude_job_queue_webhooks_queue CHECK (queue ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
  url        text NOT NULL CONSTRAINT claude_job_queue_webhooks_url CHECK (url ~ '^https?://' AND length(url) <= 2000),
  secret     text CONSTRAINT claude_job_queue_webhooks_secret CHECK (length(secret) BETWEEN 1 AND 1000),
  template   text CONSTRAINT claude_job_queue_webhooks_template CHECK (length(template) BETWEEN 1 AND 10000),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TYPE claude_job_delivery_state AS ENUM ('pending', 'delivered', 'failed');

-- The outbox: one row per event and target. The target (url, secret,
-- template) and the job's status and error are copied at the event, so a
-- later change of the configuration, a retry of the job or its deletion
-- does not change what the event says. `body` is the JSON sent, fixed at
-- the first attempt so that every retry sends the same bytes.
--
-- Claiming (webhook_claim.sql): a due pending row is taken FOR UPDATE SKIP
-- LOCKED, its attempt counted and next_attempt_at moved to the end of a
-- lease; so a worker that dies while sending leaves the row due again when
-- the lease ends, and the attempt count fences the late answer of a worker
-- that lost its lease.
CREATE TABLE claude_job_deliveries (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job_id          uuid NOT NULL,
  event           text NOT NULL CONSTRAINT claude_job_deliveries_event CHECK (event IN ('finished', 'failed', 'cancelled', 'parked')),
  source          text NOT NULL CONSTRAINT claude_job_deliveries_source CHECK (source IN ('job', 'queue')),
  url             text NOT NULL,
  secret          text,
  template        text,
  kind            text NOT NULL,
  queue           text NOT NULL,
  job_status      text NOT NULL,
  error           text,
  -- What the event adds (parked: until when, why); {} otherwise.
  detail          jsonb NOT NULL DEFAULT '{}',
  occurred_at     timestamptz NOT NULL DEFAULT now(),
  body            text,
  state           claude_job_delivery_state NOT NULL DEFAULT 'pending',
  attempts        integer NOT NULL DEFAULT 0,
  max_attempts    integer NOT NULL DEFAULT 12 CONSTRAINT claude_job_deliveries_max_attempts CHECK (max_attempts BETWEEN 1 AND 100),
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  leased_by       integer,
  delivered_at    timestamptz,
  last_status     integer,
  last_error      text,
  CONSTRAINT claude_job_deliveries_attempts CHECK (attempts BETWEEN 0 AND max_attempts)
);
-- The claim: due pending deliveries, oldest due first.
CREATE INDEX claude_job_deliveries_due ON claude_job_deliveries (next_attempt_at) WHERE state = 'pending';
-- The job page and GET /api/jobs/:id/deliveries.
CREATE INDEX claude_job_deliveries_job ON claude_job_deliveries (job_id, id);

-- Every attempt and what the receiver answered (bounded), for the job page.
CREATE TABLE claude_job_delivery_attempts (
  delivery_id bigint NOT NULL REFERENCES claude_job_deliveries (id) ON DELETE CASCADE,
  attempt     integer NOT NULL,
  worker_id   integer,
  started_at  timestamptz NOT NULL,
  ended_at    timestamptz,
  status_code integer,
  response    text CONSTRAINT claude_job_delivery_attempts_response CHECK (length(response) <= 2000),
  error       text,
  PRIMARY KEY (delivery_id, attempt)
);

-- The outbox rows of one event of one job: one per target (its own webhook,
-- its queue's), for code that makes an event the trigger below cannot see,
-- in that code's transaction (src/notify/webhooks.ts recordWebhookEvent).
-- The trigger covers the final states and the Claude handler's parks.
CREATE FUNCTION claude_jobs_webhook_event(job uuid, what text, detail jsonb DEFAULT '{}') RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  n integer;
BEGIN
  INSERT INTO claude_job_deliveries (job_id, event, source, url, secret, template, kind, queue, job_status, error, detail)
  SELECT j.id, what, t.source, t.url, t.secret, t.template, j.kind, j.queue, j.status::text, left(j.error, 4000), coalesce(detail, '{}')
  FROM claude_jobs j
  CROSS JOIN LATERAL (
    SELECT 'job' AS source, w.url, w.secret, w.template FROM claude_job_webhooks w WHERE w.job_id = j.id
    UNION ALL
    SELECT 'queue', q.url, q.secret, q.template FROM claude_job_queue_webhooks q WHERE q.queue = j.queue
  ) t
  WHERE j.id = job;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;

-- A job reaching finished, failed or cancelled, or parked on a usage limit,
-- writes its events in the same statement's transaction. A park is the
-- Claude handler's requeue (running -> queued) with a new
-- result.usageLimit.parkedAt (src/handlers/claude/index.ts), so it needs no
-- call from the park's code. Cheap for the jobs with no webhook, which are
-- nearly all, also where other jobs and queues have one: a claim (no final
-- state, no park) reads the changed rows once and returns; an end reads the
-- (few) queues that have a webhook, then the changed rows once more for
-- has_webhook or such a queue, and returns. Measured with EXPLAIN ANALYZE on
-- 10-job statements: ~0.013 ms on a claim, ~0.04 ms on a completion of ~0.85
-- ms; the insert below runs only for jobs that have a target.
CREATE FUNCTION claude_jobs_webhook_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  hooked_queues text[];
BEGIN
  IF NOT EXISTS (SELECT 1 FROM new_rows
                 WHERE status IN ('finished', 'failed', 'cancelled') OR (status = 'queued' AND result ? 'usageLimit')) THEN
    RETURN NULL;
  END IF;
  hooked_queues := ARRAY(SELECT queue FROM claude_job_queue_webhooks);
  IF NOT EXISTS (SELECT 1 FROM new_rows
                 WHERE (has_webhook OR queue = ANY (hooked_queues))
                   AND (status IN ('finished', 'failed', 'cancelled') OR (status = 'queued' AND result ? 'usageLimit'))) THEN
    RETURN NULL;
  END IF;
  INSERT INTO claude_job_deliveries (job_id, event, source, url, secret, template, kind, queue, job_status, error, detail)
  SELECT n.id, e.event, t.source, t.url, t.secret, t.template, n.kind, n.queue, n.status::text, left(n.error, 4000), e.detail
  FROM new_rows n
  JOIN old_rows o ON o.id = n.id
  CROSS JOIN LATERAL (
    SELECT CASE WHEN n.status = 'queued' THEN 'parked' ELSE n.status::text END AS event,
           CASE WHEN n.status = 'queued' THEN jsonb_strip_nulls(jsonb_build_object(
             'resets_at', n.result->'usageLimit'->'resetsAt', 'run_at', n.result->'usageLimit'->'runAt',
             'reason', n.result->'usageLimit'->'reason', 'rate_limit_type', n.result->'usageLimit'->'rateLimitType'))
           ELSE '{}'::jsonb END AS detail
  ) e
  CROSS JOIN LATERAL (
    SELECT 'job' AS source, w.url, w.secret, w.template FROM claude_job_webhooks w WHERE n.has_webhook AND w.job_id = n.id
    UNION ALL
    SELECT 'queue', q.url, q.secret, q.template FROM claude_job_queue_webhooks q WHERE q.queue = n.queue
  ) t
  WHERE (n.has_webhook OR n.queue = ANY (hooked_queues))
    AND o.status <> n.status
    AND (n.status IN ('finished', 'failed', 'cancelled')
         OR (n.status = 'queued' AND o.status = 'running'
             AND n.result->'usageLimit'->>'parkedAt' IS NOT NULL
             AND n.result->'usageLimit'->>'parkedAt' IS DISTINCT FROM o.result->'usageLimit'->>'parkedAt'))
  ORDER BY n.id;
  RETURN NULL;
END $$;

CREATE TRIGGER claude_jobs_webhook_outbox AFTER UPDATE ON claude_jobs
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION claude_jobs_webhook_outbox();

-- A deleted job's own webhook goes with it, and so do its deliveries that
-- are done; pending ones are still sent (they carry what they need).
CREATE FUNCTION claude_jobs_webhook_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM old_rows WHERE has_webhook) THEN
    DELETE FROM claude_job_webhooks w USING old_rows o WHERE o.has_webhook AND w.job_id = o.id;
  END IF;
  IF EXISTS (SELECT 1 FROM claude_job_deliveries) THEN
    DELETE FROM claude_job_deliveries d USING old_rows o WHERE d.job_id = o.id AND d.state <> 'pending';
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER claude_jobs_webhook_forget AFTER DELETE ON claude_jobs
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION claude_jobs_webhook_forget();

-- TRUNCATE claude_jobs does the same for every job.
CREATE FUNCTION claude_jobs_webhook_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM claude_job_webhooks;
  DELETE FROM claude_job_deliveries WHERE state <> 'pending';
  RETURN NULL;
END $$;

CREATE TRIGGER claude_jobs_webhook_truncate AFTER TRUNCATE ON claude_jobs
  FOR EACH STATEMENT EXECUTE FUNCTION claude_jobs_webhook_truncate();

-- A public URL of the dashboard, for the job links in the events: set by
-- `dashboard --public-url` / `serve --public-url`, so that every worker,
-- on any host, links to it (a worker's CLAUDE_JOBS_PUBLIC_URL wins).
CREATE TABLE claude_job_settings (
  name       text PRIMARY KEY,
  value      text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
