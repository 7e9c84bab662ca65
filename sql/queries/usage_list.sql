-- usage_list: the accounts paused now, and those with a warning in the last
-- $1 seconds, soonest reset first (stats, workers, the overview).
-- $1 warning_within_s float8
SELECT u.*, (u.paused_until > now()) AS paused
FROM claude_job_usage_limits u
WHERE u.paused_until > now() OR u.warning_at > now() - $1 * interval '1 second'
ORDER BY u.paused_until NULLS LAST, u.warning_at DESC
