-- schedule_enqueue: insert a schedule's jobs from its template, one per
-- slot, and record the latest as its last run. A slot that has a job
-- already is left alone: ON CONFLICT DO NOTHING on the unique index
-- claude_jobs_schedule_slot (which waits for a concurrent insert of the
-- same slot to commit, then skips it); so is a slot whose template's unique
-- key is held by an earlier job (claude_jobs_unique_key): no target is named,
-- so both indexes are arbiters. The insert fires the jobs' NOTIFY
-- trigger like any enqueue. A job is due at its slot (a worker whose clock
-- runs ahead cannot start it early); a job run by hand (null slot) now.
-- $1 name, $2 ids uuid[], $3 slots timestamptz[] (oldest first; a null
-- element: run by hand), $4 advance (boolean: set next_run_at to $5),
-- $5 next_run_at (timestamptz, null: no later slot), $6 expected next_run_at
-- (timestamptz, or null: no check): the scheduler's slots were planned from
-- the next_run_at it read; the row is locked here and the statement does
-- nothing if another worker moved next_run_at meanwhile (a locked row is
-- re-read after the wait, so the check sees the other worker's commit).
-- One statement, so the jobs and the move of next_run_at commit together.
-- Returns the schedule as updated and the ids inserted (none: no such
-- schedule, or the check failed).
WITH input AS (
  SELECT t.id, t.slot, t.ord FROM unnest($2::uuid[], $3::timestamptz[]) WITH ORDINALITY AS t(id, slot, ord)
), s AS (
  SELECT * FROM claude_job_schedules
  WHERE name = $1 AND ($6::timestamptz IS NULL OR next_run_at = $6::timestamptz)
  FOR UPDATE
), inserted AS (
  INSERT INTO claude_jobs (id, kind, queue, priority, payload, run_at, max_attempts, concurrency_key, concurrency_limit,
                           unique_key, unique_states, schedule_name, schedule_slot)
  SELECT i.id, s.kind, s.queue, s.priority, s.payload, coalesce(i.slot, now()), s.max_attempts, s.concurrency_key,
         s.concurrency_limit, s.unique_key, s.unique_states, s.name, i.slot
  FROM s CROSS JOIN input i
  ORDER BY i.ord
  ON CONFLICT DO NOTHING
  RETURNING id
), latest AS (
  -- The latest slot's job: inserted now, or there already (a slot enqueued
  -- before); none when its insert was skipped for a held unique key.
  SELECT coalesce(
           (SELECT i.id FROM input i WHERE i.ord = (SELECT max(ord) FROM input) AND i.id IN (SELECT id FROM inserted)),
           (SELECT j.id FROM input i JOIN claude_jobs j ON j.schedule_name = $1 AND j.schedule_slot = i.slot
            WHERE i.ord = (SELECT max(ord) FROM input))
         ) AS id,
         (SELECT coalesce(i.slot, now()) FROM input i ORDER BY i.ord DESC LIMIT 1) AS at
)
UPDATE claude_job_schedules u
SET next_run_at = CASE WHEN $4::boolean THEN $5::timestamptz ELSE u.next_run_at END,
    last_run_at = CASE WHEN l.id IS NULL THEN u.last_run_at ELSE l.at END,
    last_job_id = coalesce(l.id, u.last_job_id)
FROM s, latest l
WHERE u.name = s.name
RETURNING u.*, (SELECT coalesce(array_agg(id), '{}') FROM inserted) AS inserted_ids
