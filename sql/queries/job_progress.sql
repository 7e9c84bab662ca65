-- job_progress: merge a running attempt's progress (a Claude run's session
-- id, say) into its result, so it can be seen and resumed while it runs.
-- Fenced like a completion: only while this worker still owns the attempt.
-- $1 id uuid, $2 worker_id int, $3 attempt int, $4 patch jsonb (as text)
UPDATE claude_jobs
SET result = coalesce(result, '{}'::jsonb) || $4::text::jsonb
WHERE id = $1 AND worker_id = $2 AND attempts = $3 AND status = 'running'
