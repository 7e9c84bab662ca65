-- webhook_job_set: gives jobs their own webhook, in the transaction that
-- enqueues them (src/notify/webhooks.ts), so no job can end before it is set.
-- $1 job ids uuid[], $2 url text, $3 secret text|null, $4 template text|null
INSERT INTO claude_job_webhooks AS w (job_id, url, secret, template)
SELECT id, $2, $3, $4 FROM unnest($1::uuid[]) AS id
ON CONFLICT (job_id) DO UPDATE SET url = excluded.url, secret = excluded.secret, template = excluded.template
