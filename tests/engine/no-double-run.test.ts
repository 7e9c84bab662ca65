// Invariant 1: a job never runs in two places at once. Several workers in
// separate processes race for hundreds of jobs; every job runs exactly once.

import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { Queue } from "../../src/queue/client.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { waitFor } from "../helpers/wait.ts";
import { createRunsTable, killAll, startWorkerProcess, type WorkerProcess } from "../helpers/worker-process.ts";

// Generous: the suite shares a small machine; waits inside tests have their own deadlines.
setDefaultTimeout(30_000);

const PROCESSES = 4;
const JOBS = 400;

let db: TestDatabase;
const children: WorkerProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  await createRunsTable(db.sql);
});
afterAll(async () => {
  await killAll(children);
  await db.drop();
});

describe("no double run", () => {
  test(`${JOBS} jobs shared by ${PROCESSES} worker processes each run exactly once`, async () => {
    children.push(...(await Promise.all(
      Array.from({ length: PROCESSES }, () => startWorkerProcess(db.url, { CONCURRENCY: "8" })),
    )));
    // All workers are idle and listening: one bulk enqueue wakes them all at once.
    await new Queue(db.sql).enqueueMany(
      Array.from({ length: JOBS }, (_, i) => ({ kind: "record", payload: { sleepMs: i % 4 } })),
    );
    await waitFor("every job to finish", async () => {
      const [row] = await db.sql`SELECT count(*)::int AS n FROM claude_jobs WHERE status = 'finished'`;
      return row!.n === JOBS;
    }, { timeoutMs: 60_000, intervalMs: 100 });

    const [runs] = await db.sql`
      SELECT count(*)::int AS starts, count(DISTINCT job_id)::int AS jobs, count(DISTINCT pid)::int AS pids,
             max(attempt)::int AS max_attempt
      FROM test_runs`;
    expect(runs).toEqual({ starts: JOBS, jobs: JOBS, pids: PROCESSES, max_attempt: 1 });
    const [jobs] = await db.sql`
      SELECT count(*) FILTER (WHERE attempts = 1)::int AS once, count(DISTINCT worker_id)::int AS workers
      FROM claude_jobs`;
    expect(jobs).toEqual({ once: JOBS, workers: PROCESSES });
    // The processes themselves were recorded as the jobs' owners.
    const owners = await db.sql`SELECT DISTINCT r.pid, j.worker_id FROM test_runs r JOIN claude_jobs j ON j.id = r.job_id`;
    expect(owners).toHaveLength(PROCESSES);
    expect(new Set(owners.map((o) => o.worker_id))).toEqual(new Set(children.map((c) => c.workerId)));
  }, 90_000);
});
