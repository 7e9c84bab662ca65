-- usage_resume: lifts accounts' pauses early (claude-jobs claude resume-now):
-- the pause goes, the jobs parked on it become due now, and every worker is
-- told (NOTIFY claude_jobs_usage for the pause, claude_jobs for each queue of
-- the parked jobs), all in one transaction. Returns the lifted accounts and
-- how many parked jobs each made due.
-- $1 account_keys text[] (null: every paused account)
WITH lifted AS (
  UPDATE claude_job_usage_limits u
  SET paused_until = NULL, paused_at = NULL, pause_reason = NULL, rate_limit_type = NULL, paused_by_job = NULL, updated_at = now()
  WHERE u.paused_until > now() AND ($1::text[] IS NULL OR u.account_key = ANY($1::text[]))
  RETURNING u.account_key, u.account_label
), due AS (
  UPDATE claude_jobs j SET run_at = now()
  FROM lifted l
  WHERE j.status = 'queued' AND j.run_at > now() AND j.result->'usageLimit'->>'accountKey' = l.account_key
  RETURNING j.queue, l.account_key
), told AS (
  SELECT pg_notify('claude_jobs', q.queue) FROM (SELECT DISTINCT queue FROM due) q
  UNION ALL
  SELECT pg_notify('claude_jobs_usage', l.account_key) FROM lifted l
)
SELECT l.account_key, l.account_label, (SELECT count(*) FROM due d WHERE d.account_key = l.account_key)::int AS jobs_due,
       (SELECT count(*) FROM told) AS notified
FROM lifted l
ORDER BY l.account_label
