-- dash_durations: run time (started_at to finished_at) of the jobs that ended
-- in the last hour, per queue and status, as cumulative buckets for the
-- Prometheus histogram on /metrics. Served by claude_jobs_finished_at.
SELECT queue, status::text AS status, count(*)::int AS count,
       coalesce(sum(extract(epoch FROM finished_at - started_at)), 0)::float8 AS sum,
       count(*) FILTER (WHERE finished_at - started_at <= interval '1 second')::int AS le_1,
       count(*) FILTER (WHERE finished_at - started_at <= interval '10 seconds')::int AS le_10,
       count(*) FILTER (WHERE finished_at - started_at <= interval '1 minute')::int AS le_60,
       count(*) FILTER (WHERE finished_at - started_at <= interval '5 minutes')::int AS le_300,
       count(*) FILTER (WHERE finished_at - started_at <= interval '15 minutes')::int AS le_900,
       count(*) FILTER (WHERE finished_at - started_at <= interval '1 hour')::int AS le_3600
FROM claude_jobs
WHERE finished_at >= now() - interval '1 hour' AND started_at IS NOT NULL
GROUP BY queue, status
ORDER BY queue, status
