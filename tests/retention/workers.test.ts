// Retention as every worker's maintenance task: three worker processes start
// at once over old jobs, each runs retention at start (as asked: the default
// waits one interval), and every old job is deleted exactly once with the
// counters exact; in-process, a worker with an injected clock deletes when
// its clock says so, and reports it as an event.

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { join } from "node:path";
import { waitFor } from "../helpers/wait.ts";
import { startWorkerProcess } from "../helpers/worker-process.ts";
import { REPO, WorkerPool, nextEvent, type Child } from "../helpers/engine.ts";
import { builtinMaintenance } from "../../src/worker/maintenance.ts";
import { retentionTask, type CleanupReport } from "../../src/worker/retention.ts";
import { WorkerDb } from "../../src/worker/db.ts";
import { countByStatus, countsAgree, insertEnded } from "./helpers.ts";

let db: TestDatabase;
const children: Child[] = [];
const FIXTURE = join(REPO, "tests/retention/fixtures/retention-worker.ts");

async function startRetentionWorker(): Promise<Child> {
  const child = await startWorkerProcess(db.url, {}, { script: FIXTURE });
  children.push(child);
  return child;
}
const pool = new WorkerPool();
const DAY = 86_400_000;

beforeAll(async () => {
  db = await createTestDatabase({ max: 8 });
});
afterEach(async () => {
  for (const c of children.splice(0)) {
    c.proc.kill("SIGKILL");
    await c.exited;
  }
  await pool.stopAll();
  await db.sql`TRUNCATE claude_jobs`;
});
afterAll(async () => {
  await db.drop();
});

describe("retention in worker processes", () => {
  test("three workers starting together over 30,000 old jobs: each deleted once, counters exact, new jobs still run", async () => {
    await insertEnded(db, { n: 20_000, status: "finished", endedAgo: "20 days", queue: "old" });
    await insertEnded(db, { n: 10_000, status: "failed", endedAgo: "40 days", queue: "old" });
    await insertEnded(db, { n: 300, status: "finished", endedAgo: "2 days", queue: "old" });
    const workers = await Promise.all([0, 1, 2].map(() => startRetentionWorker()));
    const ids = await db.sql`INSERT INTO claude_jobs (kind, queue, payload) SELECT 'record', 'new', '{}' FROM generate_series(1, 50) RETURNING id`;
    await waitFor("retention to delete the old jobs", async () => (await countByStatus(db)).failed === undefined
      && (await countByStatus(db)).finished === 300 + ids.length, { timeoutMs: 30_000 });
    const agree = await countsAgree(db);
    expect(agree.counters).toEqual(agree.rows);
    expect(agree.rows).toEqual({ "new/finished": 50, "old/finished": 300 });
    // What the workers say they deleted adds up to what went: no job counted twice.
    const said = () => workers.flatMap((w) => [...w.stdout().matchAll(/\{"deleted":(\d+)\}/g)].map((m) => Number(m[1]))).reduce((a, b) => a + b, 0);
    await waitFor("the workers to report what they deleted", () => said() >= 30_000);
    expect(said()).toBe(30_000);
  }, 60_000);
});

describe("retention in a worker with an injected clock", () => {
  test("nothing is old until the clock moves on; then the task deletes and emits maintenance:retention", async () => {
    await insertEnded(db, { n: 25, status: "cancelled", endedAgo: "1 hour" });
    let now = new Date();
    const clock = () => now;
    const worker = await pool.start({ sql: db.sql, handlers: { noop: async () => ({}) }, now: clock,
      maintenance: builtinMaintenance({ now: clock, retention: { runAtStart: true } }) });
    await worker.runMaintenance("retention");
    expect((await countByStatus(db)).cancelled).toBe(25);
    now = new Date(Date.now() + 15 * DAY);
    const event = nextEvent<CleanupReport>(worker, "maintenance:retention");
    await worker.runMaintenance("retention");
    expect((await event).deleted).toEqual({ finished: 0, failed: 0, cancelled: 25 });
    expect(await countByStatus(db)).toEqual({});
  });

  test("the periods come from the worker's retention settings: off keeps, a shorter one deletes sooner", async () => {
    await insertEnded(db, { n: 5, status: "finished", endedAgo: "3 days" });
    await insertEnded(db, { n: 5, status: "failed", endedAgo: "3 days" });
    const keep = await pool.start({ sql: db.sql, handlers: { noop: async () => ({}) },
      maintenance: builtinMaintenance({ now: () => new Date(), retention: { runAtStart: true, policy: { finishedMs: null, failedMs: null } } }) });
    await keep.runMaintenance("retention");
    expect(await countByStatus(db)).toEqual({ finished: 5, failed: 5 });
    const short = await pool.start({ sql: db.sql, handlers: { noop: async () => ({}) },
      maintenance: builtinMaintenance({ now: () => new Date(), retention: { runAtStart: true, policy: { finishedMs: DAY, failedMs: null } } }) });
    await short.runMaintenance("retention");
    expect(await countByStatus(db)).toEqual({ failed: 5 });
  });
});

describe("retention's pace", () => {
  test("by default the task lets the worker's start go by: its first call deletes nothing, the next one does", async () => {
    await insertEnded(db, { n: 5, status: "finished", endedAgo: "20 days" });
    const workerDb = new WorkerDb(db.sql, "retention-pace");
    const events: unknown[] = [];
    const ctx = { db: workerDb, workerId: 1, now: () => new Date(), signal: new AbortController().signal, emit: (_: string, d: unknown) => events.push(d) };
    try {
      const task = retentionTask();
      await task.run(ctx);
      expect(await countByStatus(db)).toEqual({ finished: 5 });
      await task.run(ctx);
      expect(await countByStatus(db)).toEqual({});
      expect(events).toEqual([expect.objectContaining({ total: 5 })]);
      expect(task.everyMs).toBe(10 * 60_000);
    } finally {
      await workerDb.end();
    }
  });
});
