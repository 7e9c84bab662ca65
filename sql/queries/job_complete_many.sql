-- job_complete_many: write the outcomes of attempts, fenced: a row changes only
-- while this worker still owns that attempt (it was not rescued or cancelled
-- away meanwhile). Returns the ids that were written.
-- $1 worker_id int, $2 ids uuid[], $3 attempts int[], $4 statuses text[]
-- ('finished' | 'failed' | 'cancelled' | 'queued'), $5 errors text[] (null = none),
-- $6 results text[] (JSON or null), $7 retry_in_ms float8[] (for 'queued'),
-- $8 refund int[] (1 = the attempt does not count: worker shutdown)
UPDATE claude_jobs j
SET status = o.status::claude_job_status,
    attempts = j.attempts - o.refund,
    result = coalesce(o.result::jsonb, j.result),
    error = coalesce(o.error, j.error),
    errors = CASE WHEN o.error IS NULL THEN j.errors
                  ELSE j.errors || jsonb_build_array(jsonb_build_object(
                    'attempt', o.attempt, 'at', now(), 'message', o.error)) END,
    run_at = CASE WHEN o.status = 'queued' THEN now() + o.retry_in_ms * interval '1 millisecond'
                  ELSE j.run_at END,
    finished_at = CASE WHEN o.status = 'queued' THEN NULL ELSE now() END
FROM unnest($2::uuid[], $3::int[], $4::text[], $5::text[], $6::text[], $7::float8[], $8::int[])
  AS o(id, attempt, status, error, result, retry_in_ms, refund)
WHERE j.id = o.id AND j.worker_id = $1 AND j.attempts = o.attempt AND j.status = 'running'
RETURNING j.id
