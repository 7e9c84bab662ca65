-- retention_files: the jobs retention_delete.sql would delete now that may
-- have files on a host (a result naming log files or a worktree; any Claude
-- job, whose earlier attempts' logs are found by name in the log folder),
-- for `cleanup --dry-run`. Read through a cursor; nothing is locked.
-- $1 finished_before timestamptz, $2 failed_before timestamptz
SELECT j.id, j.kind, j.result->>'stdoutLog' AS stdout_log, j.result->>'stderrLog' AS stderr_log, j.result->'worktree' AS worktree
FROM claude_jobs j
WHERE j.finished_at IS NOT NULL
  AND j.finished_at < greatest($1::timestamptz, $2::timestamptz)
  AND ((j.status IN ('finished', 'cancelled') AND j.finished_at < $1::timestamptz)
       OR (j.status = 'failed' AND j.finished_at < $2::timestamptz))
  AND (j.kind = 'claude' OR j.result ? 'stdoutLog' OR j.result ? 'worktree')
