-- 007: usage limits. A subscription's usage limit belongs to the account,
-- not to the job that met it: once one worker's Claude run is refused, every
-- worker that uses the same credentials would be refused too until the
-- limit resets. So the pause is a row here, keyed by the account key (a
-- SHA-256 of the credential's source and the Claude config folder, made by
-- src/handlers/claude/usage-limit.ts; never the secret), seen by workers on
-- every host. Workers keep it in memory (src/worker/usage-pause.ts): they
-- read it when they record one, on NOTIFY claude_jobs_usage, and on their
-- poll, never in the claim. The row also keeps the account's latest
-- allowed_warning, for the dashboard. Forward-only. Applied once, in a
-- transaction, under the migrator's lock.

CREATE TABLE claude_job_usage_limits (
  account_key       text PRIMARY KEY,
  -- "ANTHROPIC_API_KEY, /home/u/.claude": the credential's source (a variable's
  -- NAME, or the credentials file) and the config folder. Never a secret.
  account_label     text NOT NULL,
  -- The pause: no worker of the account starts a Claude job before paused_until.
  -- A past paused_until is no pause (the row is kept for its warning).
  paused_until      timestamptz,
  paused_at         timestamptz,
  pause_reason      text,
  rate_limit_type   text,
  paused_by_job     uuid,
  -- The latest allowed_warning rate_limit_event (the limit is near).
  warning_at        timestamptz,
  warning_resets_at timestamptz,
  warning_type      text,
  warning_job       uuid,
  updated_at        timestamptz NOT NULL DEFAULT now(),

  CONSTRAINT claude_job_usage_limits_key_format CHECK (account_key ~ '^[0-9a-f]{64}$'),
  CONSTRAINT claude_job_usage_limits_label_length CHECK (length(account_label) BETWEEN 1 AND 2000),
  CONSTRAINT claude_job_usage_limits_pause_whole
    CHECK ((paused_until IS NULL) = (paused_at IS NULL) AND (paused_until IS NULL) = (pause_reason IS NULL))
);
