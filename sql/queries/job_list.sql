-- job_list: jobs newest first, filtered, keyset-paginated on (created_at, id).
-- $1 status text (null = any), $2 queue text (null = any), $3 kind text (null = any),
-- $4 before_created_at timestamptz (null = from the top), $5 before_id uuid, $6 limit int
SELECT * FROM claude_jobs
WHERE ($1::claude_job_status IS NULL OR status = $1::claude_job_status)
  AND ($2::text IS NULL OR queue = $2)
  AND ($3::text IS NULL OR kind = $3)
  AND ($4::timestamptz IS NULL OR (created_at, id) < ($4::timestamptz, $5::uuid))
ORDER BY created_at DESC, id DESC
LIMIT $6
