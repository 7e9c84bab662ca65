-- budget_clear: removes a queue's daily budget (its Claude jobs are claimed
-- again at once: idle workers are woken). The zone stays: the queue's spend
-- goes on being recorded on its days. Returns no row when the queue had no
-- budget (nothing changed).
-- $1 name text
WITH cleared AS (
  UPDATE claude_job_queues SET daily_budget_usd = NULL, updated_at = now()
  WHERE name = $1 AND daily_budget_usd IS NOT NULL
  RETURNING name
)
SELECT name, pg_notify('claude_jobs', name) FROM cleared
