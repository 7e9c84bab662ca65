-- job_running_of_worker: the attempts a worker owns in the database. After it
-- takes its lock again, the worker compares them with the jobs it runs: a
-- claim that committed while its answer was lost with the old session made
-- jobs of ours that nothing runs, and no rescuer will take them from a live
-- worker, so the worker puts them back itself.
-- $1 worker_id int
SELECT id, attempts FROM claude_jobs WHERE status = 'running' AND worker_id = $1
