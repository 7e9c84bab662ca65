-- worker_relock: a live worker took its lock again on a new session (its old
-- one was lost). Counting the generation up voids any suspicion a rescuer
-- recorded for the old one (job_rescue.sql). Run on the new session, after the
-- lock is taken, so that nobody sees the new generation without the lock.
-- $1 worker_id int
UPDATE claude_job_workers SET generation = generation + 1 WHERE id = $1
RETURNING generation
