-- webhook_expire: deliveries whose last attempt's lease ran out with no
-- answer recorded (the worker sending it died) and no attempt left: failed.
-- $1 now timestamptz (the worker's clock; the database's when that is later)
UPDATE claude_job_deliveries
SET state = 'failed', leased_by = NULL,
    last_error = 'the worker sending the last attempt stopped before recording an answer; no attempt left'
WHERE state = 'pending' AND attempts >= max_attempts AND next_attempt_at <= greatest($1::timestamptz, now())
RETURNING id
