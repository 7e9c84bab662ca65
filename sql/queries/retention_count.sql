-- retention_count: what retention_delete.sql would delete now, by queue and
-- status (for `cleanup --dry-run`). Same conditions, no lock, nothing deleted.
-- $1 finished_before timestamptz, $2 failed_before timestamptz
SELECT j.queue, j.status, count(*)::int AS n
FROM claude_jobs j
WHERE j.finished_at IS NOT NULL
  AND j.finished_at < greatest($1::timestamptz, $2::timestamptz)
  AND ((j.status IN ('finished', 'cancelled') AND j.finished_at < $1::timestamptz)
       OR (j.status = 'failed' AND j.finished_at < $2::timestamptz))
GROUP BY j.queue, j.status
ORDER BY j.queue, j.status
