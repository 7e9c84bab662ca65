-- job_insert_unique: job_insert_many for jobs that may carry a unique key.
-- A job whose key is held by a job in one of that job's unique states (the
-- partial unique index claude_jobs_unique_key) is not inserted: ON CONFLICT
-- waits for a concurrent insert of the key to commit or roll back, so under
-- any number of enqueuers exactly one job holds a key. Two jobs of one batch
-- with the same key: the first is inserted. Returns the ids inserted; the
-- caller looks up the holders of the keys that were not.
-- $1-$11 as in job_insert_many.sql, $12 unique_keys text[] (null = none),
-- $13 unique_states text[] (array literals like '{waiting,queued,running}')
INSERT INTO claude_jobs (id, kind, queue, priority, payload, run_at, max_attempts, concurrency_key, concurrency_limit,
                         status, unique_key, unique_states)
SELECT t.id, t.kind, t.queue, t.priority, t.payload::jsonb,
       coalesce(t.run_at, now() + t.delay_ms * interval '1 millisecond'),
       t.max_attempts, t.concurrency_key, t.concurrency_limit, t.status::claude_job_status,
       t.unique_key, t.unique_states::claude_job_status[]
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::text[], $6::timestamptz[],
            $7::float8[], $8::int[], $9::text[], $10::int[], $11::text[], $12::text[], $13::text[])
  WITH ORDINALITY
  AS t(id, kind, queue, priority, payload, run_at, delay_ms, max_attempts, concurrency_key, concurrency_limit, status,
       unique_key, unique_states, ord)
ORDER BY t.ord
ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND status = ANY (unique_states) DO NOTHING
RETURNING id
