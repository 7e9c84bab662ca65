-- webhook_queue_set: sets (or replaces) a queue's webhook; the queue need not
-- have jobs yet.
-- $1 queue text, $2 url text, $3 secret text|null, $4 template text|null
INSERT INTO claude_job_queue_webhooks AS q (queue, url, secret, template, updated_at)
VALUES ($1, $2, $3, $4, now())
ON CONFLICT (queue) DO UPDATE SET url = excluded.url, secret = excluded.secret, template = excluded.template, updated_at = now()
RETURNING queue, url, secret IS NOT NULL AS has_secret, template, updated_at
