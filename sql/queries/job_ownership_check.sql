-- job_ownership_check: of the attempts a worker believes it runs, which must
-- stop: cancel requested, or no longer this worker's (rescued, deleted).
-- $1 worker_id int, $2 ids uuid[], $3 attempts int[]
SELECT t.id, (j.id IS NOT NULL AND j.cancel_requested_at IS NOT NULL
              AND j.status = 'running' AND j.worker_id = $1 AND j.attempts = t.attempt) AS cancelled
FROM unnest($2::uuid[], $3::int[]) AS t(id, attempt)
LEFT JOIN claude_jobs j ON j.id = t.id
WHERE j.id IS NULL OR j.status <> 'running' OR j.worker_id <> $1 OR j.attempts <> t.attempt
   OR j.cancel_requested_at IS NOT NULL
