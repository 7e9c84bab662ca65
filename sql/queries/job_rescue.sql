-- job_rescue: running jobs whose worker no longer holds its session advisory
-- lock (classid 17226, objid = worker id) belong to a dead worker (process
-- killed, host gone, connection cut: PostgreSQL drops the lock with the
-- session). They go back to the queue, or fail when their attempts are used,
-- or end cancelled when a cancel was asked. No lease, no timestamp guessing.
-- A worker takes its lock before it claims anything, so a running job's
-- owner held the lock at claim time. Returns the rescued rows.
WITH live AS (
  SELECT objid::integer AS worker_id FROM pg_locks
  WHERE locktype = 'advisory' AND classid = 17226 AND objsubid = 2 AND granted
    -- Advisory locks are per database; pg_locks shows the whole cluster, where
    -- another claude-jobs database has workers with the same ids.
    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
), orphans AS (
  SELECT j.id FROM claude_jobs j
  WHERE j.status = 'running' AND j.worker_id NOT IN (SELECT worker_id FROM live)
  FOR UPDATE SKIP LOCKED
)
UPDATE claude_jobs j
SET status = CASE WHEN j.cancel_requested_at IS NOT NULL THEN 'cancelled'::claude_job_status
                  WHEN j.attempts >= j.max_attempts THEN 'failed'::claude_job_status
                  ELSE 'queued'::claude_job_status END,
    finished_at = CASE WHEN j.cancel_requested_at IS NOT NULL OR j.attempts >= j.max_attempts
                       THEN now() END,
    run_at = now(),
    error = 'worker ' || j.worker_id || ' died while running attempt ' || j.attempts,
    errors = j.errors || jsonb_build_array(jsonb_build_object('attempt', j.attempts, 'at', now(),
      'message', 'worker ' || j.worker_id || ' died while running attempt ' || j.attempts))
FROM orphans
WHERE j.id = orphans.id
RETURNING j.id, j.status, j.queue
