// Retries: a failed attempt N goes back to the queue with run_at = now +
// 2^(N-1) s; after max_attempts the job fails with every attempt's error;
// RetryJobError chooses a longer delay; PermanentJobError fails at once.

import { afterAll, afterEach, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { Queue } from "../../src/queue/client.ts";
import { PermanentJobError, RetryJobError } from "../../src/handlers/types.ts";
import type { Completion } from "../../src/db/jobs.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { jobRow, nextEvent, WorkerPool } from "../helpers/engine.ts";
import { waitFor } from "../helpers/wait.ts";

// Generous: the suite shares a small machine; waits inside tests have their own deadlines.
setDefaultTimeout(30_000);

let db: TestDatabase;
let queue: Queue;
const pool = new WorkerPool();
const TOLERANCE_MS = 400;

beforeAll(async () => {
  db = await createTestDatabase();
  queue = new Queue(db.sql);
});
afterEach(() => pool.stopAll());
afterAll(() => db.drop());

describe("retries and backoff", () => {
  test("attempt N fails back to queued with run_at about now + 2^(N-1)s; after max attempts it fails with every error", async () => {
    const failedAt: number[] = [];
    const worker = await pool.start({
      sql: db.sql,
      handlers: { flaky: async ({ job }) => { failedAt.push(Date.now()); throw new Error(`boom ${job.attempts}`); } },
    });
    const id = await queue.enqueue({ kind: "flaky", payload: {}, maxAttempts: 3 });
    for (const attempt of [1, 2]) {
      await nextEvent<Completion>(worker, "job:retry", (c) => c.id === id && c.attempt === attempt);
      const job = await jobRow(db.sql, id);
      expect(job.status).toBe("queued");
      expect(job.attempts).toBe(attempt);
      expect(job.finishedAt).toBeNull();
      const delay = job.runAt.getTime() - failedAt[attempt - 1]!;
      expect(Math.abs(delay - 2 ** (attempt - 1) * 1000)).toBeLessThan(TOLERANCE_MS);
    }
    await waitFor("the job to fail", async () => (await jobRow(db.sql, id)).status === "failed", { timeoutMs: 10_000 });
    const job = await jobRow(db.sql, id);
    expect(job.attempts).toBe(3);
    expect(job.error).toBe("boom 3");
    expect(job.errors.map((e) => [e.attempt, e.message])).toEqual([[1, "boom 1"], [2, "boom 2"], [3, "boom 3"]]);
    // Each retry waited for its backoff (1s, then 2s), measured by the handler's own clock.
    expect(failedAt[1]! - failedAt[0]!).toBeGreaterThanOrEqual(1000 - 50);
    expect(failedAt[2]! - failedAt[1]!).toBeGreaterThanOrEqual(2000 - 50);
  });

  test("RetryJobError's delay is honoured when it is longer than the backoff", async () => {
    let thrownAt = 0;
    const worker = await pool.start({
      sql: db.sql,
      handlers: { limited: async () => { thrownAt = Date.now(); throw new RetryJobError("rate limited", { delaySeconds: 30 }); } },
    });
    const id = await queue.enqueue({ kind: "limited", payload: {}, maxAttempts: 5 });
    await nextEvent<Completion>(worker, "job:retry", (c) => c.id === id);
    const job = await jobRow(db.sql, id);
    expect(job.status).toBe("queued");
    expect(Math.abs(job.runAt.getTime() - thrownAt - 30_000)).toBeLessThan(TOLERANCE_MS);
    expect(job.errors.map((e) => e.message)).toEqual(["rate limited"]);
  });

  test("PermanentJobError fails the job at once, attempts left or not, keeping its result", async () => {
    await pool.start({
      sql: db.sql,
      handlers: { doomed: async () => { throw new PermanentJobError("cannot ever work", { result: { why: "bad input" } }); } },
    });
    const id = await queue.enqueue({ kind: "doomed", payload: {}, maxAttempts: 5 });
    await waitFor("the job to fail", async () => (await jobRow(db.sql, id)).status === "failed");
    const job = await jobRow(db.sql, id);
    expect(job.attempts).toBe(1);
    expect(job.error).toBe("cannot ever work");
    expect(job.result).toEqual({ why: "bad input" });
    expect(job.errors).toHaveLength(1);
  });

  test("a job of max_attempts 1 that throws fails after its one attempt", async () => {
    await pool.start({ sql: db.sql, handlers: { once: async () => { throw new Error("nope"); } } });
    const id = await queue.enqueue({ kind: "once", payload: {}, maxAttempts: 1 });
    await waitFor("the job to fail", async () => (await jobRow(db.sql, id)).status === "failed");
    expect((await jobRow(db.sql, id)).attempts).toBe(1);
  });
});
