-- worker_list_live: workers whose advisory lock is held right now, with the
-- ids of the jobs each is running.
SELECT w.*, coalesce(array_agg(j.id) FILTER (WHERE j.id IS NOT NULL), '{}') AS running_job_ids
FROM claude_job_workers w
JOIN pg_locks l ON l.locktype = 'advisory' AND l.classid = 17226 AND l.objsubid = 2
               AND l.granted AND l.objid::integer = w.id
               AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
LEFT JOIN claude_jobs j ON j.worker_id = w.id AND j.status = 'running'
GROUP BY w.id
ORDER BY w.id
