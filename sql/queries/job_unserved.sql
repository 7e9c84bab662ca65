-- job_unserved: queued jobs (due or scheduled) that no live worker would
-- claim: none holds its lock while serving the job's queue (or `*`) and
-- having a handler for its kind. They wait in silence otherwise. Workers of
-- older versions (kinds unknown) count as serving every kind.
WITH live AS (
  SELECT w.queues, w.kinds FROM claude_job_workers w
  JOIN pg_locks l ON l.locktype = 'advisory' AND l.classid = 17226 AND l.objsubid = 2
                 AND l.granted AND l.objid::integer = w.id
                 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
), waiting AS (
  SELECT j.queue, j.kind, count(*)::int AS jobs FROM claude_jobs j WHERE j.status = 'queued' GROUP BY j.queue, j.kind
)
SELECT w.queue, w.kind, w.jobs FROM waiting w
WHERE NOT EXISTS (
  SELECT 1 FROM live
  WHERE ('*' = ANY(live.queues) OR w.queue = ANY(live.queues)) AND (live.kinds IS NULL OR w.kind = ANY(live.kinds)))
ORDER BY w.queue, w.kind
