-- retention_lock: the retention cleaner's lock, for one batch's transaction.
-- pg_try_: a second cleaner (another worker, a `claude-jobs cleanup`) gets
-- false at once and skips its run instead of queueing behind the first.
-- Transaction-level, so it can never leak through a pooled connection.
-- Key (17227, 1): 17225 is the migrator's, 17226 the workers' locks.
SELECT pg_try_advisory_xact_lock(17227, 1) AS locked
