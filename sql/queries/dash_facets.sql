-- dash_facets: the distinct queues and kinds (for the list's filter menus), by
-- a loose index scan over claude_jobs_queue_created / claude_jobs_kind_created:
-- one index probe per distinct value, whatever the table's size.
WITH RECURSIVE queues AS (
  SELECT min(queue) AS v FROM claude_jobs
  UNION ALL
  SELECT (SELECT min(queue) FROM claude_jobs WHERE queue > q.v) FROM queues q WHERE q.v IS NOT NULL
), kinds AS (
  SELECT min(kind) AS v FROM claude_jobs
  UNION ALL
  SELECT (SELECT min(kind) FROM claude_jobs WHERE kind > k.v) FROM kinds k WHERE k.v IS NOT NULL
)
SELECT 'queue' AS facet, v AS value FROM queues WHERE v IS NOT NULL
UNION ALL
SELECT 'kind', v FROM kinds WHERE v IS NOT NULL
