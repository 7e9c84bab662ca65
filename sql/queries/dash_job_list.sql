-- dash_job_list: the dashboard's job list, filtered, searched, sorted and
-- keyset-paginated. {{key}}, {{dir}} and {{cmp}} are filled at load time from
-- a closed set (src/db/dashboard.ts SORTS), never from input; run unprepared so
-- each call is planned with its values (the optional filters pick the index).
-- $1 status claude_job_status (null = any), $2 due text ('due' | 'scheduled' | null),
-- $3 queue text, $4 kind text, $5 prompt ILIKE pattern text (null = no search; it
-- looks only at the newest 100,000 jobs, so a search costs at most that scan),
-- $6 cursor key timestamptz (null = from the top), $7 cursor id uuid, $8 limit int
SELECT * FROM claude_jobs
WHERE ($1::claude_job_status IS NULL OR status = $1::claude_job_status)
  AND ($2::text IS NULL OR ($2::text = 'due') = (run_at <= now()))
  AND ($3::text IS NULL OR queue = $3::text)
  AND ($4::text IS NULL OR kind = $4::text)
  AND ($5::text IS NULL OR (payload ->> 'prompt' ILIKE $5::text AND created_at >= (
        SELECT coalesce(min(created_at), '-infinity') FROM (
          SELECT created_at FROM claude_jobs ORDER BY created_at DESC, id DESC LIMIT 100000) newest)))
  AND ($6::timestamptz IS NULL OR ({{key}}, id) {{cmp}} ($6::timestamptz, $7::uuid))
ORDER BY {{key}} {{dir}}, id {{dir}}
LIMIT $8
