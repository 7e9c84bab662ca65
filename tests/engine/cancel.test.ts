// Invariant 4 and the queue's state changes: cancel a queued job (it never
// runs) or a running one from another connection (it ends cancelled, not
// retried); a finished job cannot be cancelled; retry, run-now and delete.

import { afterAll, afterEach, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { Queue } from "../../src/queue/client.ts";
import { createSql, type Sql } from "../../src/db/connect.ts";
import { ConflictError, NotFoundError } from "../../src/errors.ts";
import type { HandlerContext } from "../../src/handlers/types.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { aborted, jobRow, WorkerPool } from "../helpers/engine.ts";
import { waitFor } from "../helpers/wait.ts";

// Generous: the suite shares a small machine; waits inside tests have their own deadlines.
setDefaultTimeout(30_000);

let db: TestDatabase;
let queue: Queue;
let elsewhere: Sql;
const pool = new WorkerPool();
const ran: string[] = [];
const reasons: unknown[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  queue = new Queue(db.sql);
  elsewhere = createSql(db.url, { max: 1 });
});
afterEach(async () => {
  await pool.stopAll();
  ran.length = 0;
});
afterAll(async () => {
  await elsewhere.end();
  await db.drop();
});

const handlers = {
  quick: async ({ job }: HandlerContext) => { ran.push(job.id); },
  wait: async ({ job, signal }: HandlerContext) => {
    ran.push(job.id);
    reasons.push(await aborted(signal));
    throw new Error("stopped");
  },
};
const finished = (id: string) => async () => (await jobRow(db.sql, id)).status === "finished";

describe("cancel", () => {
  test("a queued job cancelled ends cancelled and never runs", async () => {
    const id = await queue.enqueue({ kind: "quick", payload: {} });
    expect((await queue.cancel(id)).status).toBe("cancelled");
    const later = await queue.enqueue({ kind: "quick", payload: {} });
    await pool.start({ sql: db.sql, handlers });
    await waitFor("the later job to finish", finished(later));
    expect(ran).toEqual([later]);
    const job = await jobRow(db.sql, id);
    expect(job.status).toBe("cancelled");
    expect(job.attempts).toBe(0);
    expect(job.finishedAt).not.toBeNull();
  });

  test("a running job cancelled from another connection is stopped through its signal, ends cancelled and is not retried", async () => {
    const worker = await pool.start({ sql: db.sql, handlers, pollIntervalMs: 60_000 });
    const id = await queue.enqueue({ kind: "wait", payload: {}, maxAttempts: 3 });
    await waitFor("the job to run", () => ran.includes(id));
    reasons.length = 0;
    const requested = await new Queue(elsewhere).cancel(id);
    expect(requested.status).toBe("running");
    expect(requested.cancelRequestedAt).not.toBeNull();
    await waitFor("the job to end cancelled", async () => (await jobRow(db.sql, id)).status === "cancelled", { timeoutMs: 5000 });
    expect(reasons).toEqual([{ kind: "cancelled", message: "cancelled by request" }]);
    const job = await jobRow(db.sql, id);
    expect(job.attempts).toBe(1);
    expect(job.finishedAt).not.toBeNull();
    // Not retried: a later job runs, the cancelled one stays as it is.
    const later = await queue.enqueue({ kind: "quick", payload: {} });
    await waitFor("a later job to finish", finished(later));
    expect(ran.filter((r) => r === id)).toHaveLength(1);
    expect((await jobRow(db.sql, id)).status).toBe("cancelled");
    expect(worker.runningCount).toBe(0);
  });

  test("a finished job cannot be cancelled: ConflictError, and it stays finished", async () => {
    await pool.start({ sql: db.sql, handlers });
    const id = await queue.enqueue({ kind: "quick", payload: {} });
    await waitFor("the job to finish", finished(id));
    await expect(queue.cancel(id)).rejects.toBeInstanceOf(ConflictError);
    const job = await jobRow(db.sql, id);
    expect(job.status).toBe("finished");
    expect(job.cancelRequestedAt).toBeNull();
  });

  test("an unknown id is a NotFoundError", async () => {
    await expect(queue.cancel("0192f1c4-7b1e-7cc0-8d2a-5e1f0a9b3c4d")).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe("retry, run-now and delete", () => {
  test("a failed job retried goes back to the queue and runs", async () => {
    const id = await queue.enqueue({ kind: "quick", payload: {}, maxAttempts: 1 });
    await db.sql`UPDATE claude_jobs SET status = 'failed', attempts = 1, finished_at = now(), error = 'x' WHERE id = ${id}`;
    const retried = await queue.retry(id);
    expect(retried.status).toBe("queued");
    expect(retried.maxAttempts).toBe(2);
    await pool.start({ sql: db.sql, handlers });
    await waitFor("the retried job to finish", finished(id));
    expect((await jobRow(db.sql, id)).attempts).toBe(2);
  });

  test("a queued job cannot be retried", async () => {
    const id = await queue.enqueue({ kind: "quick", payload: {}, delay: "1h" });
    await expect(queue.retry(id)).rejects.toBeInstanceOf(ConflictError);
  });

  test("run-now makes a scheduled job due, and it runs", async () => {
    await pool.start({ sql: db.sql, handlers, pollIntervalMs: 60_000 });
    const id = await queue.enqueue({ kind: "quick", payload: {}, delay: "1h" });
    const due = await queue.runNow(id);
    expect(due.runAt.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    await waitFor("the job to finish", finished(id), { timeoutMs: 3000 });
  });

  test("delete removes a queued job; a running job must be cancelled first", async () => {
    const id = await queue.enqueue({ kind: "quick", payload: {}, delay: "1h" });
    await queue.delete(id);
    await expect(queue.get(id)).rejects.toBeInstanceOf(NotFoundError);

    await pool.start({ sql: db.sql, handlers });
    const running = await queue.enqueue({ kind: "wait", payload: {} });
    await waitFor("the job to run", () => ran.includes(running));
    await expect(queue.delete(running)).rejects.toBeInstanceOf(ConflictError);
    expect((await jobRow(db.sql, running)).status).toBe("running");
  });
});
