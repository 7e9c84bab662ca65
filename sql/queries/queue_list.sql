-- queue_list: the queues that have a row (paused now, or paused once), by
-- name. Their job counts come from job_stats.sql; a queue with jobs and no
-- row is not paused.
SELECT name, paused_at, paused_by, updated_at FROM claude_job_queues ORDER BY name
