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

describe("lost lock", () => {
  // postgres.js 3.4.9 throws a TypeError from a timer (connection.js nextWrite:
  // socket is null) when the worker's lock probe is sent on the reserved
  // connection after PostgreSQL closed it; the probe itself then times out as
  // designed. That error, and only it, is expected here.
  const driverErrors: Error[] = [];
  const onUncaught = (e: Error) => {
    if (!/socket\.write/.test(e.message)) throw e;
    driverErrors.push(e);
  };
  beforeAll(() => { process.on("uncaughtException", onUncaught); });
  afterAll(() => { process.off("uncaughtException", onUncaught); });

  test("a worker whose lock session is terminated stops its job, registers again and goes on working", async () => {
    const reasons: unknown[] = [];
    const worker = await pool.start({
      sql: db.sql,
      handlers: {
        job: async ({ job, signal }: HandlerContext) => {
          count(job.id);
          if (job.attempts > 1) return { attempt: job.attempts };
          reasons.push(await aborted(signal));
          throw new Error("aborted");
        },
      },
    });
    const firstId = worker.id;
    const id = await queue.enqueue({ kind: "job", payload: {} });
    await waitFor("the job to run", () => started.has(id));
    const relocked = nextEvent<{ id: number }>(worker, "worker:relock");
    // Worker ids are per database: only this database's lock is ours to cut.
    const holders = await admin`SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database
      WHERE l.locktype = 'advisory' AND l.classid = 17226 AND l.objsubid = 2 AND l.objid = ${firstId}
        AND l.granted AND d.datname = ${db.name}`;
    expect(holders).toHaveLength(1);
    const holder = holders[0];
    await admin`SELECT pg_terminate_backend(${holder!.pid})`;

    const { id: secondId } = await relocked;
    expect(secondId).not.toBe(firstId);
    await waitFor("the handler to be stopped", () => reasons.length > 0);
    // Stopped by its own probe ("lost its database lock") or, if its rescuer
    // was quicker, by the ownership check ("taken from this worker").
    expect(reasons).toEqual([{ kind: "lost_ownership", message: expect.any(String) }]);
    // The job goes back (by the worker's own write, or a rescue) and runs again under the new identity.
    await waitFor("the job to finish", async () => (await jobRow(db.sql, id)).status === "finished", { timeoutMs: 8000 });
    // A claim already in flight under the lost id may cost one more attempt
    // (that job is left to the rescuer, never run under a lock no one holds).
    const job = await jobRow(db.sql, id);
    expect(job.attempts).toBeGreaterThanOrEqual(2);
    expect(job.workerId).toBe(secondId);
    expect(job.result).toEqual({ attempt: job.attempts });
    const live = (await queue.workers()).map((w) => w.id);
    expect(live).toContain(secondId);
    expect(live).not.toContain(firstId);
    // And it keeps working: a new job runs at once.
    const next = await queue.enqueue({ kind: "job", payload: {} });
    await waitFor("a new job to run", () => started.has(next));
  });
});
