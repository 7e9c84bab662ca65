// Edges a review found: outcomes PostgreSQL would refuse (NUL bytes), a
// cancel that arrives while an attempt is failing, a stop that arrives while
// the worker is still starting, and a server that ends idle sessions.

import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { WorkerPool, jobRow, nextEvent } from "../helpers/engine.ts";
import { waitFor } from "../helpers/wait.ts";
import { Queue } from "../../src/queue/client.ts";
import { Worker } from "../../src/worker/worker.ts";
import { createSql } from "../../src/db/connect.ts";

let db: TestDatabase;
let queue: Queue;
const pool = new WorkerPool();
beforeAll(async () => {
  db = await createTestDatabase();
  queue = new Queue(db.sql);
});
afterEach(() => pool.stopAll());
afterAll(() => db.drop());

test("a NUL byte in an error or a result is dropped, not a batch that can never be written", async () => {
  await pool.start({ sql: db.sql, handlers: {
    nul_error: async () => { throw new Error("bad\u0000byte"); },
    nul_result: async () => ({ text: "a\u0000b", big: "\\u0000 stays" }),
  } });
  const failing = await queue.enqueue({ kind: "nul_error", payload: {}, maxAttempts: 1 });
  const ok = await queue.enqueue({ kind: "nul_result", payload: {} });
  await waitFor("both outcomes written", async () =>
    (await jobRow(db.sql, failing)).status === "failed" && (await jobRow(db.sql, ok)).status === "finished");
  expect((await jobRow(db.sql, failing)).error).toBe("badbyte");
  expect((await jobRow(db.sql, ok)).result).toEqual({ text: "ab", big: "\\u0000 stays" });
});

test("a cancel asked while the attempt fails ends the job cancelled, not queued for a retry", async () => {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const worker = await pool.start({ sql: db.sql, handlers: {
    // Ignores its signal, then fails as if it had not heard the cancel.
    stubborn: async () => { await gate; throw new Error("failed anyway"); },
  } });
  const id = await queue.enqueue({ kind: "stubborn", payload: {}, maxAttempts: 5 });
  await nextEvent(worker, "job:start");
  await db.sql`UPDATE claude_jobs SET cancel_requested_at = now() WHERE id = ${id}`; // no NOTIFY: the write decides
  release();
  await waitFor("the job to end", async () => (await jobRow(db.sql, id)).status !== "running");
  const job = await jobRow(db.sql, id);
  expect(job.status).toBe("cancelled");
  expect(job.finishedAt).not.toBeNull();
});

test("stop() during start() leaves no job running and no lock held", async () => {
  const ids = await queue.enqueueMany(Array.from({ length: 5 }, () => ({ kind: "quick", payload: {} })));
  const worker = new Worker({ sql: db.sql, pollIntervalMs: 100, handlers: { quick: async () => { await Bun.sleep(50); } } });
  worker.on("error", () => {});
  const started = worker.start();
  await worker.stop({ timeoutMs: 5000 });
  await started;
  const rows = await Promise.all(ids.map((id) => jobRow(db.sql, id)));
  expect(rows.filter((r) => r.status === "running")).toEqual([]);
  expect(await queue.workers()).toEqual([]);
});

test("a server that ends idle sessions does not end the worker's lock session", async () => {
  await db.sql.unsafe(`ALTER DATABASE ${db.name} SET idle_session_timeout = '1s'`);
  const sql = createSql(db.url, { max: 4 }); // new sessions get the setting
  try {
    const worker = await pool.start({ sql, handlers: { slow: async () => { await Bun.sleep(3000); } } });
    const lost: unknown[] = [];
    worker.on("worker:lock-lost", (e: unknown) => lost.push(e));
    const id = await queue.enqueue({ kind: "slow", payload: {} });
    await waitFor("the job to finish", async () => (await jobRow(db.sql, id)).status === "finished", { timeoutMs: 15_000 });
    expect(lost).toEqual([]);
    expect((await jobRow(db.sql, id)).attempts).toBe(1);
    await pool.stopAll();
  } finally {
    await db.sql.unsafe(`ALTER DATABASE ${db.name} RESET idle_session_timeout`);
    await sql.end({ timeout: 1 });
  }
});
