// Invariant 3: NOTIFY wakes an idle worker at once; polling is the truth when
// LISTEN is broken; a worker whose LISTEN connection was cut listens again.

import { afterAll, afterEach, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import postgres from "postgres";
import { Queue } from "../../src/queue/client.ts";
import type { JobRecord } from "../../src/handlers/types.ts";
import type { Worker } from "../../src/worker/worker.ts";
import { ADMIN_URL, createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { nextEvent, WorkerPool } from "../helpers/engine.ts";
import { waitFor } from "../helpers/wait.ts";

// Generous: the suite shares a small machine; waits inside tests have their own deadlines.
setDefaultTimeout(30_000);

let db: TestDatabase;
let queue: Queue;
let admin: postgres.Sql;
const pool = new WorkerPool();
const noop = async () => {};

beforeAll(async () => {
  db = await createTestDatabase();
  queue = new Queue(db.sql);
  admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
});
afterEach(() => pool.stopAll());
afterAll(async () => {
  await admin.end();
  await db.drop();
});

/** Backends of this test database whose last statement was a LISTEN. */
async function listenBackends(): Promise<number[]> {
  const rows = await admin`SELECT pid FROM pg_stat_activity WHERE datname = ${db.name} AND query ILIKE 'listen%'`;
  return rows.map((r) => r.pid as number);
}

async function enqueueAndTime(worker: Worker): Promise<number> {
  const t0 = performance.now();
  const id = await queue.enqueue({ kind: "noop", payload: {} });
  await nextEvent<JobRecord>(worker, "job:start", (job) => job.id === id, 5000);
  return performance.now() - t0;
}

describe("NOTIFY pick-up and the polling fallback", () => {
  test("an idle worker polling once a minute starts a new job at once", async () => {
    const worker = await pool.start({ sql: db.sql, handlers: { noop }, pollIntervalMs: 60_000 });
    await waitFor("the worker to listen", async () => (await listenBackends()).length > 0);
    // Correctness, not speed: well under the poll interval means NOTIFY did it.
    expect(await enqueueAndTime(worker)).toBeLessThan(3000);
    expect(await enqueueAndTime(worker)).toBeLessThan(3000);
  });

  test("with its LISTEN gone, a worker still runs new jobs by polling", async () => {
    const worker = await pool.start({ sql: db.sql, handlers: { noop }, pollIntervalMs: 300 });
    // Break NOTIFY for this worker: it no longer listens at all.
    await (worker as unknown as { notifier: { stop(): Promise<void> } }).notifier.stop();
    expect(await listenBackends()).toEqual([]);
    // Polling every 300ms: the job starts well within a few poll intervals.
    expect(await enqueueAndTime(worker)).toBeLessThan(3000);
  });

  test("a worker whose LISTEN connection is terminated listens again, and a later NOTIFY wakes it", async () => {
    const worker = await pool.start({ sql: db.sql, handlers: { noop }, pollIntervalMs: 60_000 });
    const [before] = await waitFor("the worker to listen", async () => {
      const pids = await listenBackends();
      return pids.length === 1 ? pids : null;
    });
    await admin`SELECT pg_terminate_backend(${before!})`;
    // postgres.js reconnects and re-issues one LISTEN per channel, the wake
    // channel first: once the cancel channel's LISTEN is done, both are.
    await waitFor("a new backend listening to both channels again", async () => {
      const rows = await admin`SELECT pid FROM pg_stat_activity WHERE datname = ${db.name}
        AND query ILIKE 'listen%claude_jobs_cancel%' AND state = 'idle' AND pid <> ${before!}`;
      return rows.length === 1;
    });
    expect(await enqueueAndTime(worker)).toBeLessThan(3000);
  });

  test("a job enqueued while the LISTEN connection is down is fetched when the worker listens again", async () => {
    const worker = await pool.start({ sql: db.sql, handlers: { noop }, pollIntervalMs: 60_000 });
    const [before] = await waitFor("the worker to listen", async () => {
      const pids = await listenBackends();
      return pids.length === 1 ? pids : null;
    });
    await admin`SELECT pg_terminate_backend(${before!})`;
    expect(await enqueueAndTime(worker)).toBeLessThan(3000);
  });
});
