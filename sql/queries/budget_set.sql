-- budget_set: gives a queue a daily Claude budget (the queue need not have
-- jobs yet), in a zone: $3, else the zone it had, else UTC. The zone is
-- checked by PostgreSQL itself (an unknown one raises 22023 and nothing is
-- written), since it is PostgreSQL that counts the days. The claim queries
-- see the new budget at their next claim (job_claim_*.sql); the change wakes
-- idle workers (NOTIFY, in its transaction), so the jobs a raised budget
-- lets through start at once.
-- $1 name text, $2 daily_budget_usd numeric, $3 timezone text (null = keep)
WITH set AS (
  INSERT INTO claude_job_queues AS q (name, daily_budget_usd, budget_timezone, updated_at)
  SELECT $1, $2::numeric, $3::text, now()
  WHERE (now() AT TIME ZONE coalesce($3::text, 'UTC')) IS NOT NULL
  ON CONFLICT (name) DO UPDATE SET daily_budget_usd = excluded.daily_budget_usd,
    budget_timezone = coalesce(excluded.budget_timezone, q.budget_timezone), updated_at = now()
  RETURNING q.name
)
SELECT name, pg_notify('claude_jobs', name) FROM set
