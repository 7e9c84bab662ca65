-- webhook_setting_get: one setting of claude_job_settings (public_url).
-- $1 name text
SELECT value FROM claude_job_settings WHERE name = $1
