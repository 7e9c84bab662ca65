-- webhook_deliveries: a job's deliveries, oldest first, each with its
-- attempts (never the secret; the URL is redacted by the caller).
-- $1 job id uuid
SELECT d.id, d.event, d.source, d.url, d.state, d.attempts, d.max_attempts, d.next_attempt_at, d.occurred_at,
       d.delivered_at, d.last_status, d.last_error, d.template IS NOT NULL AS templated,
       coalesce((SELECT json_agg(json_build_object(
                  'attempt', a.attempt, 'workerId', a.worker_id, 'startedAt', a.started_at, 'endedAt', a.ended_at,
                  'statusCode', a.status_code, 'response', a.response, 'error', a.error) ORDER BY a.attempt)
                FROM claude_job_delivery_attempts a WHERE a.delivery_id = d.id), '[]') AS attempt_log
FROM claude_job_deliveries d
WHERE d.job_id = $1
ORDER BY d.id
LIMIT 100
