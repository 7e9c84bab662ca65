-- dash_ended_recent: the cutoff greatest(since, now() - settle) and each job
-- that ended after it (with a run time), for /metrics to count one by one
-- while a late commit could still add to that window; older ends are
-- counted in aggregate by dash_durations. Times are microseconds since the
-- epoch (text). One row with a null id when none ended. Served by
-- claude_jobs_finished_at.
-- $1 since_us text, $2 settle_ms int
WITH c AS (
  SELECT greatest(timestamptz 'epoch' + $1::bigint * interval '1 microsecond', now() - $2::int * interval '1 millisecond') AS cutoff
)
SELECT (extract(epoch FROM c.cutoff) * 1000000)::bigint::text AS cutoff_us,
       j.id::text || '@' || (extract(epoch FROM j.finished_at) * 1000000)::bigint AS key,
       (extract(epoch FROM j.finished_at) * 1000000)::bigint::text AS ended_us,
       j.queue, j.status::text AS status,
       greatest(extract(epoch FROM j.finished_at - j.started_at), 0)::float8 AS seconds
FROM c LEFT JOIN claude_jobs j ON j.finished_at > c.cutoff AND j.started_at IS NOT NULL
