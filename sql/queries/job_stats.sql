-- job_stats: counts by status per queue, with queued split into due and
-- scheduled. Exact, and read from the status column, never guessed from
-- timestamps: the live states are counted from the partial indexes
-- claude_jobs_claim_queue (queued: index-only, queue and run_at are in it),
-- claude_jobs_waiting (waiting) and claude_jobs_running_worker (running); the final states are the sums of
-- claude_job_counts, which triggers keep in step with every change. A queue
-- with no job left is not listed.
WITH live AS (
  SELECT queue, 0 AS waiting,
         count(*) FILTER (WHERE run_at <= now()) AS queued,
         count(*) FILTER (WHERE run_at > now()) AS scheduled,
         0 AS running, 0 AS finished, 0 AS failed, 0 AS cancelled
  FROM claude_jobs WHERE status = 'queued' GROUP BY queue
  UNION ALL
  SELECT queue, count(*), 0, 0, 0, 0, 0, 0
  FROM claude_jobs WHERE status = 'waiting' GROUP BY queue
  UNION ALL
  SELECT queue, 0, 0, 0, count(*), 0, 0, 0
  FROM claude_jobs WHERE status = 'running' GROUP BY queue
  UNION ALL
  SELECT queue, 0, 0, 0, 0,
         sum(n) FILTER (WHERE status = 'finished'),
         sum(n) FILTER (WHERE status = 'failed'),
         sum(n) FILTER (WHERE status = 'cancelled')
  FROM claude_job_counts GROUP BY queue
)
SELECT queue, sum(waiting)::int AS waiting,
       sum(queued)::int AS queued, sum(scheduled)::int AS scheduled, sum(running)::int AS running,
       coalesce(sum(finished), 0)::int AS finished, coalesce(sum(failed), 0)::int AS failed,
       coalesce(sum(cancelled), 0)::int AS cancelled
FROM live
GROUP BY queue
HAVING sum(waiting) + sum(queued) + sum(scheduled) + sum(running)
       + coalesce(sum(finished), 0) + coalesce(sum(failed), 0) + coalesce(sum(cancelled), 0) > 0
ORDER BY queue
