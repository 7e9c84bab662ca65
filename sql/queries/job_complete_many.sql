-- job_complete_many: write the outcomes of attempts, fenced: a row changes only
-- while this worker still owns that attempt (it was not rescued or cancelled
-- away meanwhile). Returns the ids that were written.
-- Rows are locked in id order first, as the other multi-row writers (bulk
-- cancel and retry) do, so two batches can never deadlock. A cancel asked
-- while the attempt was ending wins over a retry: the job ends cancelled.
-- $1 worker_id int, $2 ids uuid[], $3 attempts int[], $4 statuses text[]
-- ('finished' | 'failed' | 'cancelled' | 'queued'), $5 errors text[] (null = none),
-- $6 results text[] (JSON or null), $7 retry_in_ms float8[] (for 'queued'),
-- $8 refund int[] (1 = the attempt does not count: worker shutdown)
WITH o AS (
  SELECT * FROM unnest($2::uuid[], $3::int[], $4::text[], $5::text[], $6::text[], $7::float8[], $8::int[])
    AS o(id, attempt, status, error, result, retry_in_ms, refund)
), owned AS (
  SELECT j.id, j.cancel_requested_at
  FROM claude_jobs j JOIN o ON o.id = j.id
  WHERE j.worker_id = $1 AND j.attempts = o.attempt AND j.status = 'running'
  ORDER BY j.id
  FOR UPDATE OF j
), outcome AS (
  SELECT o.*, CASE WHEN o.status = 'queued' AND w.cancel_requested_at IS NOT NULL THEN 'cancelled'
                   ELSE o.status END AS final
  FROM o JOIN owned w ON w.id = o.id
)
UPDATE claude_jobs j
SET status = outcome.final::claude_job_status,
    attempts = j.attempts - CASE WHEN outcome.final = 'queued' THEN outcome.refund ELSE 0 END,
    result = coalesce(outcome.result::jsonb, j.result),
    error = coalesce(outcome.error, j.error),
    errors = CASE WHEN outcome.error IS NULL THEN j.errors
                  ELSE j.errors || jsonb_build_array(jsonb_build_object(
                    'attempt', outcome.attempt, 'at', now(), 'message', outcome.error)) END,
    run_at = CASE WHEN outcome.final = 'queued' THEN now() + outcome.retry_in_ms * interval '1 millisecond'
                  ELSE j.run_at END,
    finished_at = CASE WHEN outcome.final = 'queued' THEN NULL ELSE now() END,
    concurrency_slot = NULL
FROM outcome
WHERE j.id = outcome.id
RETURNING j.id
