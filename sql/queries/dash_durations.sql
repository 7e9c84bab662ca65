-- dash_durations: run time (started_at to finished_at) of the jobs that
-- ended in (from, to], per queue and status, as cumulative buckets for the
-- Prometheus histogram on /metrics, leaving out the jobs /metrics already
-- counted one by one (dash_ended_recent). The bounds are microseconds since
-- the epoch (text), so they round-trip exactly. Served by
-- claude_jobs_finished_at.
-- $1 from_us text, $2 to_us text, $3 counted keys text[] (id@finished_us)
WITH ended AS (
  SELECT queue, status, greatest(extract(epoch FROM finished_at - started_at), 0) AS seconds,
         id::text || '@' || (extract(epoch FROM finished_at) * 1000000)::bigint AS key
  FROM claude_jobs
  WHERE finished_at > timestamptz 'epoch' + $1::bigint * interval '1 microsecond'
    AND finished_at <= timestamptz 'epoch' + $2::bigint * interval '1 microsecond'
    AND started_at IS NOT NULL
)
SELECT queue, status::text AS status, count(*)::int AS count,
       coalesce(sum(seconds), 0)::float8 AS sum,
       count(*) FILTER (WHERE seconds <= 1)::int AS le_1,
       count(*) FILTER (WHERE seconds <= 10)::int AS le_10,
       count(*) FILTER (WHERE seconds <= 60)::int AS le_60,
       count(*) FILTER (WHERE seconds <= 300)::int AS le_300,
       count(*) FILTER (WHERE seconds <= 900)::int AS le_900,
       count(*) FILTER (WHERE seconds <= 3600)::int AS le_3600
FROM ended
WHERE NOT (key = ANY($3::text[]))
GROUP BY queue, status
ORDER BY queue, status
