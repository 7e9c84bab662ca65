-- webhook_setting_set: sets one setting of claude_job_settings (public_url).
-- $1 name text, $2 value text
INSERT INTO claude_job_settings AS s (name, value, updated_at) VALUES ($1, $2, now())
ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = now()
