-- webhook_claim: takes due deliveries for this worker, oldest due first.
-- "Now" is the later of the worker's clock (tests inject theirs) and the
-- database's: a worker whose clock is behind neither delays deliveries nor
-- shortens its lease.
-- SKIP LOCKED: a row another worker is claiming is left to it. The claim
-- counts the attempt and moves next_attempt_at to the end of a lease, in
-- the same statement: until then no other worker takes it; if this worker
-- dies, it is due again then (and the attempt count fences its late answer,
-- webhook_record.sql). The attempt's row is written with it.
-- $1 now timestamptz, $2 limit integer, $3 lease milliseconds integer, $4 worker id integer
WITH due AS MATERIALIZED (
  SELECT id FROM claude_job_deliveries
  WHERE state = 'pending' AND next_attempt_at <= greatest($1::timestamptz, now()) AND attempts < max_attempts
  ORDER BY next_attempt_at, id
  LIMIT $2
  FOR UPDATE SKIP LOCKED
), claimed AS (
  UPDATE claude_job_deliveries d
  SET attempts = d.attempts + 1, next_attempt_at = greatest($1::timestamptz, now()) + $3 * interval '1 millisecond', leased_by = $4
  FROM due WHERE d.id = due.id
  RETURNING d.*
), logged AS (
  INSERT INTO claude_job_delivery_attempts (delivery_id, attempt, worker_id, started_at)
  SELECT id, attempts, $4, $1 FROM claimed
  ON CONFLICT (delivery_id, attempt) DO NOTHING
)
SELECT * FROM claimed ORDER BY id
