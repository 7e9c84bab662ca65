-- usage_warning_record: an account's run saw an allowed_warning rate-limit
-- event (the limit is near; jobs go on). Keeps the latest, for the overview.
-- $1 account_key text, $2 account_label text, $3 warning_resets_at timestamptz
-- (or null), $4 warning_type text (or null), $5 job uuid
INSERT INTO claude_job_usage_limits AS u
  (account_key, account_label, warning_at, warning_resets_at, warning_type, warning_job)
VALUES ($1, $2, now(), $3, $4, $5)
ON CONFLICT (account_key) DO UPDATE
SET account_label = EXCLUDED.account_label, warning_at = now(), warning_resets_at = EXCLUDED.warning_resets_at,
    warning_type = EXCLUDED.warning_type, warning_job = EXCLUDED.warning_job, updated_at = now()
RETURNING u.*
