-- budget_list: the queues with a daily budget or a zone of their own, with
-- today's recorded spend (today in each queue's zone, by the database's
-- now(), the clock the claim queries use), whether the claim holds back their
-- Claude jobs (spent >= budget: the test claude_jobs_over_budget() makes), and
-- when their day ends. $1 name text (null = every queue).
SELECT b.name, b.daily_budget_usd::text AS daily_budget_usd, coalesce(b.budget_timezone, 'UTC') AS timezone,
       t.today::text AS today, coalesce(s.cost_usd, 0)::text AS spent_today_usd,
       b.daily_budget_usd IS NOT NULL AND b.daily_budget_usd <= coalesce(s.cost_usd, 0) AS over_budget,
       claude_jobs_queue_day_end(t.today, b.budget_timezone) AS day_ends_at
FROM claude_job_queues b
CROSS JOIN LATERAL (SELECT claude_jobs_queue_day(now(), b.budget_timezone) AS today) t
LEFT JOIN claude_job_spend s ON s.queue = b.name AND s.day = t.today
WHERE (b.daily_budget_usd IS NOT NULL OR b.budget_timezone IS NOT NULL) AND ($1::text IS NULL OR b.name = $1::text)
ORDER BY b.name
