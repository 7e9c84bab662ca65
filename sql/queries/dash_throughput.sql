-- dash_throughput: jobs finished and failed per minute over the last $1
-- minutes (the current minute last), zero-filled. Served by
-- claude_jobs_finished_at.
-- $1 minutes int
WITH done AS (
  SELECT date_trunc('minute', finished_at) AS minute,
         count(*) FILTER (WHERE status = 'finished')::int AS finished,
         count(*) FILTER (WHERE status = 'failed')::int AS failed
  FROM claude_jobs
  WHERE finished_at >= date_trunc('minute', now()) - ($1::int - 1) * interval '1 minute'
  GROUP BY 1
)
SELECT m.minute, coalesce(d.finished, 0) AS finished, coalesce(d.failed, 0) AS failed
FROM generate_series(date_trunc('minute', now()) - ($1::int - 1) * interval '1 minute',
                     date_trunc('minute', now()), interval '1 minute') AS m(minute)
LEFT JOIN done d ON d.minute = m.minute
ORDER BY m.minute
