-- 004: a status for jobs that wait for other jobs (dependencies, 005).
-- On its own: a value added to an enum cannot be used in the transaction that
-- adds it, and each migration is one transaction.
ALTER TYPE claude_job_status ADD VALUE 'waiting' BEFORE 'queued';
