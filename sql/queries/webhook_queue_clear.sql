-- webhook_queue_clear: removes a queue's webhook; no row when it had none.
-- Deliveries already in the outbox are still sent.
-- $1 queue text
DELETE FROM claude_job_queue_webhooks WHERE queue = $1
RETURNING queue, url, secret IS NOT NULL AS has_secret, template, updated_at
