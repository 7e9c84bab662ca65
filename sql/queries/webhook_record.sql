-- webhook_record: what one attempt of a delivery got. Written only while the
-- attempt is still the delivery's latest and the delivery pending: a worker
-- whose lease ran out (another worker took the delivery) changes nothing of
-- the delivery, though its attempt's answer is still kept. Returns the
-- delivery's id when it was written.
-- $1 id bigint, $2 attempt integer, $3 state (pending|delivered|failed),
-- $4 retry_in_ms float8|null (pending: the wait, from the later of ended_at and the database's now), $5 ended_at timestamptz,
-- $6 status_code integer|null, $7 response text|null (bounded), $8 error text|null, $9 body text
WITH delivery AS (
  UPDATE claude_job_deliveries
  SET state = $3::claude_job_delivery_state,
      next_attempt_at = CASE WHEN $4::float8 IS NULL THEN next_attempt_at
                             ELSE greatest($5::timestamptz, now()) + $4::float8 * interval '1 millisecond' END,
      leased_by = NULL,
      delivered_at = CASE WHEN $3 = 'delivered' THEN $5 END,
      last_status = $6, last_error = $8,
      body = coalesce(body, $9)
  WHERE id = $1 AND attempts = $2 AND state = 'pending'
  RETURNING id
), attempt AS (
  UPDATE claude_job_delivery_attempts
  SET ended_at = $5, status_code = $6, response = $7, error = $8
  WHERE delivery_id = $1 AND attempt = $2
)
SELECT id FROM delivery
