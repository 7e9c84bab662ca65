-- dash_job_ids: ids of the jobs a filter matches (for bulk actions), newest
-- first, capped.
-- $1 status claude_job_status (null = any), $2 due text ('due' | 'scheduled' | null),
-- $3 queue text, $4 kind text, $5 prompt ILIKE pattern text (the newest 100,000
-- jobs only, as dash_job_list), $6 limit int
SELECT id FROM claude_jobs
WHERE ($1::claude_job_status IS NULL OR status = $1::claude_job_status)
  AND ($2::text IS NULL OR ($2::text = 'due') = (run_at <= now()))
  AND ($3::text IS NULL OR queue = $3::text)
  AND ($4::text IS NULL OR kind = $4::text)
  AND ($5::text IS NULL OR (payload ->> 'prompt' ILIKE $5::text AND created_at >= (
        SELECT coalesce(min(created_at), '-infinity') FROM (
          SELECT created_at FROM claude_jobs ORDER BY created_at DESC, id DESC LIMIT 100000) newest)))
ORDER BY created_at DESC, id DESC
LIMIT $6
