-- retention_existing: which of these job ids are still jobs. A log file in
-- this host's log folder whose job is gone (deleted by a cleaner on another
-- host, or by `delete`) is removed by this host's retention.
-- $1 ids uuid[]
SELECT id FROM claude_jobs WHERE id = ANY($1::uuid[])
