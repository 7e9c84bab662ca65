// Invariant 6, in the library: stop() stops claiming, lets running jobs
// finish within the timeout, and puts back (attempt refunded) the ones that
// outlast it. A second stop() is immediate.

import { afterAll, afterEach, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { Queue } from "../../src/queue/client.ts";
import type { HandlerContext } from "../../src/handlers/types.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { aborted, gate, jobRow, WorkerPool } from "../helpers/engine.ts";
import { waitFor } from "../helpers/wait.ts";

// Generous: the suite shares a small machine; waits inside tests have their own deadlines.
setDefaultTimeout(30_000);

let db: TestDatabase;
let queue: Queue;
const pool = new WorkerPool();
const running = new Set<string>();

beforeAll(async () => {
  db = await createTestDatabase();
  queue = new Queue(db.sql);
});
afterEach(async () => {
  await pool.stopAll();
  await db.sql`DELETE FROM claude_jobs`;
});
afterAll(() => db.drop());

const handlers = {
  slow: async ({ job }: HandlerContext) => {
    running.add(job.id);
    await Bun.sleep(Number(job.payload.ms));
    return { slept: job.payload.ms };
  },
  stubborn: async ({ job, signal }: HandlerContext) => {
    running.add(job.id);
    await aborted(signal);
    throw new Error("stopped");
  },
};

describe("graceful shutdown", () => {
  test("a job that finishes within the timeout is let finish, and nothing new is claimed meanwhile", async () => {
    const worker = await pool.start({ sql: db.sql, handlers, concurrency: 2 });
    const id = await queue.enqueue({ kind: "slow", payload: { ms: 400 } });
    await waitFor("the job to run", () => running.has(id));
    const stopped = worker.stop({ timeoutMs: 5000 });
    const later = await queue.enqueue({ kind: "slow", payload: { ms: 0 } });
    await stopped;
    const job = await jobRow(db.sql, id);
    expect(job.status).toBe("finished");
    expect(job.result).toEqual({ slept: 400 });
    expect((await jobRow(db.sql, later)).status).toBe("queued");
    expect(running.has(later)).toBe(false);
  });

  test("a job that outlasts the timeout is stopped and put back, due now, its attempt refunded", async () => {
    const worker = await pool.start({ sql: db.sql, handlers });
    const id = await queue.enqueue({ kind: "stubborn", payload: {}, maxAttempts: 1 });
    await waitFor("the job to run", () => running.has(id));
    const t0 = Date.now();
    await worker.stop({ timeoutMs: 300 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    const job = await jobRow(db.sql, id);
    expect(job.status).toBe("queued");
    expect(job.attempts).toBe(0);
    expect(job.runAt.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    expect(job.errors.at(-1)?.message).toContain("worker shut down");
    // It runs again later, with its one attempt intact.
    const next = await pool.start({ sql: db.sql, handlers: { stubborn: async () => ({ second: true }) } });
    await waitFor("the job to finish on another worker", async () => (await jobRow(db.sql, id)).status === "finished");
    expect((await jobRow(db.sql, id)).workerId).toBe(next.id);
  });

  test("stop() called again while stopping stops the running jobs at once", async () => {
    const worker = await pool.start({ sql: db.sql, handlers });
    const id = await queue.enqueue({ kind: "stubborn", payload: {} });
    await waitFor("the job to run", () => running.has(id));
    const first = worker.stop({ timeoutMs: 60_000 });
    const t0 = Date.now();
    await worker.stop();
    await first;
    expect(Date.now() - t0).toBeLessThan(3000);
    const job = await jobRow(db.sql, id);
    expect(job.status).toBe("queued");
    expect(job.attempts).toBe(0);
  });

  test("a stopped worker leaves the live workers list at once", async () => {
    const worker = await pool.start({ sql: db.sql, handlers: { idle: async () => {} } });
    expect((await queue.workers()).map((w) => w.id)).toContain(worker.id);
    await worker.stop();
    expect((await queue.workers()).map((w) => w.id)).not.toContain(worker.id);
    const [row] = await db.sql`SELECT stopped_at FROM claude_job_workers WHERE id = ${worker.id}`;
    expect(row!.stopped_at).not.toBeNull();
  });

  test("a job that ignores its signal is waited for past the timeout, and what it really did is written", async () => {
    const release = gate();
    const worker = await pool.start({ sql: db.sql, handlers: { deaf: async ({ job }) => { running.add(job.id); await release.promise; } } });
    const id = await queue.enqueue({ kind: "deaf", payload: {} });
    await waitFor("the job to run", () => running.has(id));
    let done = false;
    const stopped = worker.stop({ timeoutMs: 100 }).then(() => (done = true));
    await Bun.sleep(300);
    expect(done).toBe(false);
    release.open();
    await stopped;
    // It returned normally after all: it finished, and that is what is written.
    const job = await jobRow(db.sql, id);
    expect(job.status).toBe("finished");
    expect(job.attempts).toBe(1);
  });
});
