-- schedule_list: schedules by name, each with the status of its last job
-- (null once that job was deleted). $1 name (text, null = all)
SELECT s.*, j.status AS last_job_status
FROM claude_job_schedules s
LEFT JOIN claude_jobs j ON j.id = s.last_job_id
WHERE $1::text IS NULL OR s.name = $1
ORDER BY s.name
