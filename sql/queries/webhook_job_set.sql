-- webhook_job_set: gives jobs their own webhook, in the transaction that
-- enqueues them (src/notify/webhooks.ts), so no job can end before it is set;
-- and marks them (has_webhook), which is what the outbox trigger looks at.
-- $1 job ids uuid[], $2 url text, $3 secret text|null, $4 template text|null
WITH hooked AS (
  INSERT INTO claude_job_webhooks AS w (job_id, url, secret, template)
  SELECT id, $2, $3, $4 FROM unnest($1::uuid[]) AS id
  ON CONFLICT (job_id) DO UPDATE SET url = excluded.url, secret = excluded.secret, template = excluded.template
  RETURNING job_id
)
UPDATE claude_jobs j SET has_webhook = true
FROM hooked WHERE j.id = hooked.job_id AND NOT j.has_webhook
