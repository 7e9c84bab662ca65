-- usage_pause_record: an account reached its usage limit: pause it until the
-- reset and tell every worker (NOTIFY claude_jobs_usage with the key). Two
-- workers meeting the limit at once keep the later reset of the two, so no
-- worker starts a run the other knows would be refused. Returns the row.
-- $1 account_key text, $2 account_label text, $3 paused_until timestamptz,
-- $4 pause_reason text, $5 rate_limit_type text (or null), $6 job uuid
INSERT INTO claude_job_usage_limits AS u
  (account_key, account_label, paused_until, paused_at, pause_reason, rate_limit_type, paused_by_job)
VALUES ($1, $2, $3, now(), $4, $5, $6)
ON CONFLICT (account_key) DO UPDATE
SET account_label = EXCLUDED.account_label,
    paused_until = CASE WHEN u.paused_until > EXCLUDED.paused_until THEN u.paused_until ELSE EXCLUDED.paused_until END,
    pause_reason = CASE WHEN u.paused_until > EXCLUDED.paused_until THEN u.pause_reason ELSE EXCLUDED.pause_reason END,
    rate_limit_type = CASE WHEN u.paused_until > EXCLUDED.paused_until THEN u.rate_limit_type ELSE EXCLUDED.rate_limit_type END,
    paused_by_job = CASE WHEN u.paused_until > EXCLUDED.paused_until THEN u.paused_by_job ELSE EXCLUDED.paused_by_job END,
    paused_at = CASE WHEN u.paused_until > now() THEN u.paused_at ELSE now() END,
    updated_at = now()
RETURNING u.*, pg_notify('claude_jobs_usage', u.account_key) IS NOT NULL AS notified
