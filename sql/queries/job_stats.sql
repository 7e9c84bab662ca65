-- job_stats: counts by status, with queued split into due and scheduled, per
-- queue. Read from the status column, never guessed from timestamps.
SELECT queue,
       count(*) FILTER (WHERE status = 'queued' AND run_at <= now())::int AS queued,
       count(*) FILTER (WHERE status = 'queued' AND run_at > now())::int AS scheduled,
       count(*) FILTER (WHERE status = 'running')::int AS running,
       count(*) FILTER (WHERE status = 'finished')::int AS finished,
       count(*) FILTER (WHERE status = 'failed')::int AS failed,
       count(*) FILTER (WHERE status = 'cancelled')::int AS cancelled
FROM claude_jobs
GROUP BY queue
ORDER BY queue
