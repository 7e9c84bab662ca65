-- usage_pauses_of: the pauses of these accounts (a worker's own), past ones
-- included: the worker compares paused_until with its own clock.
-- $1 account_keys text[]
SELECT u.* FROM claude_job_usage_limits u
WHERE u.account_key = ANY($1::text[]) AND u.paused_until IS NOT NULL
