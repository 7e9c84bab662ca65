-- spend_days: recorded Claude spend per queue and day, for the last $1 days
-- (a day is the queue's own, in its zone; the window is counted back from
-- today in UTC). Served by claude_job_spend_day.
-- $1 days int
SELECT queue, day::text AS day, cost_usd::text AS cost_usd, input_tokens, output_tokens, cache_read_tokens,
       cache_creation_tokens, turns, attempts
FROM claude_job_spend
WHERE day > (now() AT TIME ZONE 'UTC')::date - $1::int
ORDER BY day, queue
