-- webhook_event: writes the outbox rows of an event that is not a change to
-- a final status (a job parked on a usage limit), one per target of the job;
-- meant for the transaction that makes the change. Returns how many.
-- $1 job id uuid, $2 event text (parked), $3 detail jsonb (as text)
SELECT claude_jobs_webhook_event($1::uuid, $2::text, $3::text::jsonb) AS n
