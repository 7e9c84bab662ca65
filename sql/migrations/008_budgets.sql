-- 008: queue budgets and spend accounting. What Claude attempts cost (USD,
-- tokens, turns), per queue and day, recorded in the same transaction as each
-- attempt's outcome; and a daily limit per queue, enforced by the claim
-- queries (job_claim_*.sql) for kind 'claude'. Forward-only. Applied once, in
-- a transaction, under the migrator's lock.

-- A queue's daily Claude budget and the zone its days are counted in. No
-- budget (NULL) means no limit; no zone (NULL) means UTC. The zone is kept
-- when the budget is cleared: it is also the day the queue's spend is
-- recorded on.
ALTER TABLE claude_job_queues
  ADD COLUMN daily_budget_usd numeric
    CONSTRAINT claude_job_queues_daily_budget_range CHECK (daily_budget_usd > 0 AND daily_budget_usd <= 1000000),
  ADD COLUMN budget_timezone text
    CONSTRAINT claude_job_queues_budget_timezone_length CHECK (length(budget_timezone) BETWEEN 1 AND 100);

-- Spend per queue and day (the queue's day, in its zone, when the attempt
-- ended). Rows are only ever added to: no job deletion, retention, TRUNCATE
-- of claude_jobs or budget change takes anything away, so the sums are
-- monotonic counters (/metrics) and a day's total is what was spent that day.
-- cost_usd is numeric, summed exactly from the CLI's decimal text (a float
-- sum would drift). One row per queue and day: a completion adds to it under
-- the row lock, so concurrent completions are all counted; Claude attempts
-- last seconds to hours, so completers of one queue rarely meet on it.
CREATE TABLE claude_job_spend (
  queue                 text NOT NULL,
  day                   date NOT NULL,
  cost_usd              numeric NOT NULL DEFAULT 0,
  input_tokens          bigint NOT NULL DEFAULT 0,
  output_tokens         bigint NOT NULL DEFAULT 0,
  cache_read_tokens     bigint NOT NULL DEFAULT 0,
  cache_creation_tokens bigint NOT NULL DEFAULT 0,
  turns                 bigint NOT NULL DEFAULT 0,
  -- Attempts of Claude jobs that ended this day (finished, failed, retried,
  -- cancelled or rescued), with or without a cost.
  attempts              bigint NOT NULL DEFAULT 0,
  updated_at            timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (queue, day)
);
-- The dashboard's last 14 days across queues.
CREATE INDEX claude_job_spend_day ON claude_job_spend (day);

-- The queue's day at a time: the date in its zone (NULL: UTC). The one
-- definition of "the queue's day", used where spend is recorded, where the
-- claim tests the budget, and where the budgets are listed; a plain
-- expression, so the planner inlines it.
CREATE FUNCTION claude_jobs_queue_day(at timestamptz, zone text) RETURNS date LANGUAGE sql IMMUTABLE AS $$
  SELECT (at AT TIME ZONE coalesce(zone, 'UTC'))::date
$$;

-- When that day ends: the next local midnight (on a day a DST change skips
-- midnight, the first moment of the next day).
CREATE FUNCTION claude_jobs_queue_day_end(day date, zone text) RETURNS timestamptz LANGUAGE sql IMMUTABLE AS $$
  SELECT (day + 1)::timestamp AT TIME ZONE coalesce(zone, 'UTC')
$$;

-- A number from a result field, or 0: a field that is missing, not a number,
-- negative or absurd (a broken or hostile result) must not fail the
-- completion that carries it, nor count.
CREATE FUNCTION claude_jobs_spend_number(v jsonb) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN jsonb_typeof(v) = 'number' AND v::text::numeric BETWEEN 0 AND 1e12 THEN v::text::numeric ELSE 0 END
$$;

-- When an attempt of a Claude job ends (running -> anything else), its spend
-- is added to its queue's day, in the transaction that wrote the outcome: the
-- spend is there exactly when the outcome is. Cost, tokens and turns come
-- from the result the attempt wrote; an attempt that wrote none (the result
-- is the previous attempt's, or the job was rescued from a dead worker)
-- counts as an attempt with no cost, never the previous attempt's cost again.
-- For statements that end no Claude attempt (claims, other kinds) it reads
-- the changed rows once and returns. Upserts in key order, so two completers
-- never lock spend rows in opposite orders (no deadlock).
CREATE FUNCTION claude_jobs_record_spend() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM new_rows WHERE kind = 'claude' AND status <> 'running') THEN
    RETURN NULL;
  END IF;
  INSERT INTO claude_job_spend AS s (queue, day, cost_usd, input_tokens, output_tokens, cache_read_tokens,
                                     cache_creation_tokens, turns, attempts, updated_at)
  SELECT n.queue, claude_jobs_queue_day(now(), q.budget_timezone),
         sum(CASE WHEN fresh THEN claude_jobs_spend_number(n.result->'totalCostUsd') ELSE 0 END),
         sum(CASE WHEN fresh THEN claude_jobs_spend_number(n.result->'usage'->'input_tokens') ELSE 0 END),
         sum(CASE WHEN fresh THEN claude_jobs_spend_number(n.result->'usage'->'output_tokens') ELSE 0 END),
         sum(CASE WHEN fresh THEN claude_jobs_spend_number(n.result->'usage'->'cache_read_input_tokens') ELSE 0 END),
         sum(CASE WHEN fresh THEN claude_jobs_spend_number(n.result->'usage'->'cache_creation_input_tokens') ELSE 0 END),
         sum(CASE WHEN fresh THEN claude_jobs_spend_number(n.result->'numTurns') ELSE 0 END),
         count(*), now()
  FROM new_rows n
  JOIN old_rows o ON o.id = n.id
  LEFT JOIN claude_job_queues q ON q.name = n.queue
  CROSS JOIN LATERAL (SELECT n.result IS DISTINCT FROM o.result AS fresh) f
  WHERE n.kind = 'claude' AND o.status = 'running' AND n.status <> 'running'
  GROUP BY 1, 2 ORDER BY 1, 2
  ON CONFLICT (queue, day) DO UPDATE SET
    cost_usd = s.cost_usd + excluded.cost_usd,
    input_tokens = s.input_tokens + excluded.input_tokens,
    output_tokens = s.output_tokens + excluded.output_tokens,
    cache_read_tokens = s.cache_read_tokens + excluded.cache_read_tokens,
    cache_creation_tokens = s.cache_creation_tokens + excluded.cache_creation_tokens,
    turns = s.turns + excluded.turns,
    attempts = s.attempts + excluded.attempts,
    updated_at = now();
  RETURN NULL;
END $$;

CREATE TRIGGER claude_jobs_record_spend AFTER UPDATE ON claude_jobs
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION claude_jobs_record_spend();

-- The queues whose Claude jobs are not claimed now: today's recorded cost (in
-- the queue's zone) has reached its daily budget. Read once per claim as an
-- InitPlan (job_claim_*.sql); one primary-key lookup per budgeted queue.
-- PL/pgSQL, not SQL, because PL/pgSQL keeps its plan for the session (the
-- worker's lock session, which runs every claim): a SQL function's query is
-- planned again at every call, ~0.3 ms a claim against ~0.05 ms (pgbench).
CREATE FUNCTION claude_jobs_over_budget() RETURNS text[] LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN ARRAY(
    SELECT b.name FROM claude_job_queues b
    WHERE b.daily_budget_usd <= (SELECT s.cost_usd FROM claude_job_spend s
                                 WHERE s.queue = b.name AND s.day = claude_jobs_queue_day(now(), b.budget_timezone)));
END $$;
