-- job_lock_parents: the jobs a new job is enqueued after, locked (in id
-- order, as every multi-row writer locks) and marked as having dependents,
-- in the transaction that inserts the dependent. The lock orders this insert
-- against the parents' completion: a parent that ends before it is seen
-- ended here; one that ends after finds the dependent (and has_dependents)
-- in the release trigger (sql/migrations/005_flow.sql). Returns each parent's
-- status as of the lock, and its Claude session id (for a dependent that
-- continues its session); a missing id is not returned.
-- $1 ids uuid[]
WITH locked AS (
  SELECT id FROM claude_jobs WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE
)
UPDATE claude_jobs j SET has_dependents = true
FROM locked l WHERE j.id = l.id
RETURNING j.id, j.status, j.result->>'sessionId' AS session_id
