-- queue_pause: pauses a queue, which need not have jobs yet (a queue paused
-- before its jobs arrive is claimed by no worker when they do). Pausing a
-- paused queue changes nothing and returns no row: the first pause's time and
-- author stay, so "who paused it when" is the pause that took effect.
-- The claim queries (job_claim_*.sql) skip paused queues; running jobs finish.
-- $1 name text, $2 paused_by text
INSERT INTO claude_job_queues AS q (name, paused_at, paused_by, updated_at)
VALUES ($1, now(), $2, now())
ON CONFLICT (name) DO UPDATE SET paused_at = now(), paused_by = excluded.paused_by, updated_at = now()
  WHERE q.paused_at IS NULL
RETURNING name, paused_at, paused_by, updated_at
