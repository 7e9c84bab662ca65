-- retention_delete: one batch of retention, as one statement (its own short
-- transaction): takes the cleaner's lock, then deletes up to $4 jobs past
-- their retention, oldest first: finished and cancelled jobs that ended
-- before $1, failed ones that ended before $2 (a NULL keeps that kind).
-- The lock is pg_try_advisory_xact_lock(17227, 1) (17225 is the migrator's,
-- 17226 the workers'): transaction-level, so it ends with the statement and
-- never leaks through a pooled connection; try, so a second cleaner (another
-- worker, a `claude-jobs cleanup`) gets false at once and skips its run
-- instead of queueing behind the first. Without the lock nothing is scanned
-- (a one-time filter). The scan walks the index claude_jobs_finished_at from
-- $3, where the previous batch stopped (the newest finished_at it deleted;
-- NULL: from the oldest), so a run reads each index entry once instead of
-- stepping over the dead entries of earlier batches again in each one. Rows
-- another transaction holds (a retry, a bulk action) are skipped, not
-- waited for: the next run gets them. The delete triggers of 001/005 keep
-- claude_job_counts exact and drop the jobs' dependency rows in the same
-- statement.
-- One row per deleted job, or one row of NULLs when none was; `locked` says
-- whether this cleaner held the lock.
-- $1 finished_before timestamptz, $2 failed_before timestamptz, $3 after timestamptz, $4 limit int
WITH lock AS MATERIALIZED (
  SELECT pg_try_advisory_xact_lock(17227, 1) AS locked
), doomed AS MATERIALIZED (
  SELECT j.id
  FROM claude_jobs j
  WHERE (SELECT l.locked FROM lock l)
    AND j.finished_at IS NOT NULL
    AND j.finished_at < greatest($1::timestamptz, $2::timestamptz)
    AND j.finished_at >= coalesce($3::timestamptz, '-infinity'::timestamptz)
    AND ((j.status IN ('finished', 'cancelled') AND j.finished_at < $1::timestamptz)
         OR (j.status = 'failed' AND j.finished_at < $2::timestamptz))
  ORDER BY j.finished_at
  LIMIT $4
  FOR UPDATE OF j SKIP LOCKED
), deleted AS (
  DELETE FROM claude_jobs j
  USING doomed d
  WHERE j.id = d.id
  RETURNING j.id, j.kind, j.queue, j.status, j.finished_at,
            j.result->>'stdoutLog' AS stdout_log, j.result->>'stderrLog' AS stderr_log, j.result->'worktree' AS worktree
)
SELECT l.locked, d.* FROM lock l LEFT JOIN deleted d ON true
