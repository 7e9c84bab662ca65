-- job_rescue: puts back the running jobs of dead workers. A worker's liveness
-- is its session advisory lock (classid 17226, objid = worker id), but a
-- missing lock is first only a suspicion: the session may be gone while the
-- worker lives and runs its jobs (a restart of PostgreSQL, a terminated
-- backend). The first pass that sees a worker's lock missing records when, for
-- that lock generation; the worker's jobs are rescued once the lock has stayed
-- missing for the worker's own rescue_grace_ms (by then a live worker has
-- either taken its lock again, which counts the generation up, or stopped its
-- jobs: src/worker/liveness.ts), or at once for the workers in $1, which the
-- caller found dead on its own host (process gone, no process it started
-- alive). Rescued jobs go back to the queue, or fail when their attempts are
-- used, or end cancelled when a cancel was asked.
-- Returns the rescued jobs (rescued = true) and the suspects still in their
-- grace (rescued = false; with what the caller needs to check them itself
-- and when their grace ends).
-- $1 certainly_dead int[]
WITH live AS (
  SELECT objid::integer AS worker_id FROM pg_locks
  WHERE locktype = 'advisory' AND classid = 17226 AND objsubid = 2 AND granted
    -- Advisory locks are per database; pg_locks shows the whole cluster, where
    -- another claude-jobs database has workers with the same ids.
    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
), absent AS (
  SELECT DISTINCT j.worker_id FROM claude_jobs j
  WHERE j.status = 'running' AND j.worker_id NOT IN (SELECT worker_id FROM live)
), suspects AS (
  SELECT a.worker_id, w.id IS NOT NULL AS known, w.stopped_at IS NOT NULL AS stopped, w.generation, w.rescue_grace_ms, w.pid, w.pid_space, w.pid_start,
         w.owner_token, w.lock_missing_since, coalesce(w.lock_missing_generation = w.generation, false) AS suspected,
         w.lock_missing_since + w.rescue_grace_ms * interval '1 millisecond' AS grace_ends
  FROM absent a LEFT JOIN claude_job_workers w ON w.id = a.worker_id
), first_seen AS (
  -- The grace starts now: clock_timestamp(), after pg_locks was read (the
  -- statement's now() may precede the loss). `generation = s.generation`
  -- makes this a no-op for a worker that counted its generation up
  -- meanwhile (it holds its lock).
  UPDATE claude_job_workers w SET lock_missing_since = clock_timestamp(), lock_missing_generation = s.generation
  FROM suspects s
  WHERE w.id = s.worker_id AND NOT s.suspected AND w.generation = s.generation
  RETURNING w.id
), dead AS (
  SELECT s.worker_id FROM suspects s
  -- Unknown, or stopped cleanly (it let go of everything), or proven dead by
  -- the caller, or of a version that asked for no grace, or out of grace.
  WHERE NOT s.known OR s.stopped OR s.worker_id = ANY($1::int[]) OR s.rescue_grace_ms = 0
     OR (s.suspected AND s.grace_ends <= now())
), orphans AS (
  SELECT j.id FROM claude_jobs j
  WHERE j.status = 'running' AND j.worker_id IN (SELECT worker_id FROM dead)
  ORDER BY j.id
  FOR UPDATE SKIP LOCKED
), rescued AS (
  UPDATE claude_jobs j
  SET status = CASE WHEN j.cancel_requested_at IS NOT NULL THEN 'cancelled'::claude_job_status
                    WHEN j.attempts >= j.max_attempts THEN 'failed'::claude_job_status
                    ELSE 'queued'::claude_job_status END,
      finished_at = CASE WHEN j.cancel_requested_at IS NOT NULL OR j.attempts >= j.max_attempts
                         THEN now() END,
      run_at = now(),
      concurrency_slot = NULL,
      error = 'worker ' || j.worker_id || ' died while running attempt ' || j.attempts,
      errors = j.errors || jsonb_build_array(jsonb_build_object('attempt', j.attempts, 'at', now(),
        'message', 'worker ' || j.worker_id || ' died while running attempt ' || j.attempts))
  FROM orphans
  WHERE j.id = orphans.id
  RETURNING j.id, j.status, j.queue, j.worker_id
)
SELECT true AS rescued, r.id, r.status::text AS status, r.queue, r.worker_id,
       NULL::int AS pid, NULL::text AS pid_space, NULL::text AS pid_start, NULL::text AS owner_token, NULL::float8 AS due_in_ms
FROM rescued r
UNION ALL
SELECT false, NULL, NULL, NULL, s.worker_id, s.pid, s.pid_space, s.pid_start, s.owner_token,
       greatest(0, extract(epoch FROM coalesce(s.grace_ends, now() + s.rescue_grace_ms * interval '1 millisecond') - now()) * 1000)
FROM suspects s
WHERE s.worker_id NOT IN (SELECT worker_id FROM dead)
