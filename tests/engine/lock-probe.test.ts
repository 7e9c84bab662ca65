// A slow lock probe is not a lost lock. A worker whose pool is busy (or whose
// event loop is starved) sees its probe time out even though its session,
// and so its lock, is fine; stopping every job then would waste them all and
// count attempts against them.

import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { WorkerPool, jobRow, nextEvent } from "../helpers/engine.ts";
import { Queue } from "../../src/queue/client.ts";
import { waitFor } from "../helpers/wait.ts";

let db: TestDatabase;
const pool = new WorkerPool();

beforeAll(async () => {
  db = await createTestDatabase();
});
afterEach(() => pool.stopAll());
afterAll(() => db.drop());

test("a probe that gets no answer in time, its pool busy, does not stop the worker's jobs", async () => {
  let release: () => void = () => {};
  const running = new Promise<void>((resolve) => (release = resolve));
  const worker = await pool.start({
    sql: db.sql,
    lockProbeIntervalMs: 50,
    handlers: { hold: async () => { await running; return { ok: true }; } },
  });
  const lost: unknown[] = [];
  worker.on("worker:lock-lost", (e: unknown) => lost.push(e));
  const id = await new Queue(db.sql).enqueue({ kind: "hold", payload: {} });
  await nextEvent(worker, "job:start");
  // Every pooled connection (10, one of them reserved for the lock) busy for
  // longer than the probe's 5 s timeout.
  const busy = Array.from({ length: 9 }, () => db.sql`SELECT pg_sleep(5.5)`);
  await Promise.all(busy);
  release();
  await waitFor("the job to finish", async () => (await jobRow(db.sql, id)).status === "finished");
  expect(lost).toEqual([]);
  expect((await jobRow(db.sql, id)).attempts).toBe(1);
}, 30_000);
