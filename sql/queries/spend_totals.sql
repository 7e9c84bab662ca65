-- spend_totals: all recorded Claude spend per queue, since the first: the
-- /metrics counters. claude_job_spend is only ever added to, so each sum only
-- grows. One row per queue and day: small.
SELECT queue, sum(cost_usd)::text AS cost_usd, sum(input_tokens)::text AS input_tokens,
       sum(output_tokens)::text AS output_tokens, sum(cache_read_tokens)::text AS cache_read_tokens,
       sum(cache_creation_tokens)::text AS cache_creation_tokens, sum(turns)::text AS turns,
       sum(attempts)::text AS attempts
FROM claude_job_spend
GROUP BY queue
ORDER BY queue
