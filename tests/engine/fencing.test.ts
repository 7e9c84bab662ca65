// Invariant 1, the fence: a worker writes an outcome only while it still
// owns that attempt. A job taken away behind its back keeps the new state
// (the worker emits job:lost and aborts the handler); a worker that loses
// its lock connection stops its jobs, registers again and goes on working.

import { afterAll, afterEach, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import postgres from "postgres";
import { Queue } from "../../src/queue/client.ts";
import type { Completion } from "../../src/db/jobs.ts";
import type { HandlerContext } from "../../src/handlers/types.ts";
import { ADMIN_URL, createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { aborted, gate, jobRow, nextEvent, WorkerPool } from "../helpers/engine.ts";
import { waitFor } from "../helpers/wait.ts";

// Generous: the suite shares a small machine; waits inside tests have their own deadlines.
setDefaultTimeout(30_000);

let db: TestDatabase;
let queue: Queue;
let admin: postgres.Sql;
let otherWorker: postgres.Sql;
const pool = new WorkerPool();
const started = new Map<string, number>();

beforeAll(async () => {
  db = await createTestDatabase();
  queue = new Queue(db.sql);
  admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  otherWorker = postgres(db.url, { max: 1, onnotice: () => {} });
});
afterEach(() => pool.stopAll());
afterAll(async () => {
  await admin.end();
  await otherWorker.end();
  await db.drop();
});

/**
 * What a rescuer and another worker would have done meanwhile: the job is
 * another live worker's attempt now (that worker holds its lock, so no
 * rescuer touches the row).
 */
async function takeAway(id: string): Promise<void> {
  await otherWorker`SELECT pg_advisory_lock(17226, 424242)`;
  await db.sql`UPDATE claude_jobs SET worker_id = 424242, attempts = attempts + 1, started_at = now() WHERE id = ${id}`;
}

const count = (id: string) => started.set(id, (started.get(id) ?? 0) + 1);

describe("fenced completion", () => {
  test("a worker whose job was taken away cannot write its outcome: the row keeps the other state", async () => {
    const release = gate();
    // A long poll interval: no ownership check runs, so the handler finishes and tries to write.
    const worker = await pool.start({
      sql: db.sql, pollIntervalMs: 60_000,
      handlers: { job: async ({ job }: HandlerContext) => { count(job.id); await release.promise; return { mine: true }; } },
    });
    const id = await queue.enqueue({ kind: "job", payload: {} });
    await waitFor("the job to run", () => started.has(id));
    await takeAway(id);
    const lost = nextEvent<Completion>(worker, "job:lost", (c) => c.id === id);
    release.open();
    expect((await lost).status).toBe("finished");
    const job = await jobRow(db.sql, id);
    expect(job).toMatchObject({ status: "running", workerId: 424242, attempts: 2, result: null, finishedAt: null });
  });

  test("the ownership check aborts the handler of a job taken away, and its outcome is not written", async () => {
    const reasons: unknown[] = [];
    const worker = await pool.start({
      sql: db.sql, pollIntervalMs: 100,
      handlers: { job: async ({ job, signal }: HandlerContext) => { count(job.id); reasons.push(await aborted(signal)); throw new Error("aborted"); } },
    });
    const id = await queue.enqueue({ kind: "job", payload: {} });
    await waitFor("the job to run", () => started.has(id));
    const lost = nextEvent<Completion>(worker, "job:lost", (c) => c.id === id, 5000);
    await takeAway(id);
    await lost;
    expect(reasons).toEqual([{ kind: "lost_ownership", message: expect.stringContaining("taken from this worker") }]);
    const job = await jobRow(db.sql, id);
    expect(job).toMatchObject({ status: "running", workerId: 424242, attempts: 2, errors: [] });
  });
});
