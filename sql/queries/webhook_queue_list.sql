-- webhook_queue_list: the queues' webhooks (never their secrets), or one queue's.
-- $1 queue text|null (null: all)
SELECT queue, url, secret IS NOT NULL AS has_secret, template, updated_at
FROM claude_job_queue_webhooks
WHERE $1::text IS NULL OR queue = $1
ORDER BY queue
