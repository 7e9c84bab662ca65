// Claim order: listed queues in the order given, then priority (higher
// first), then run_at; `*` serves every queue by priority; a scheduled job
// waits until due; a worker claims only kinds it has handlers for. A worker
// of concurrency 1 runs jobs one at a time, so its start order is the claim order.

import { afterAll, afterEach, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { Queue, type EnqueueParams } from "../../src/queue/client.ts";
import type { HandlerContext } from "../../src/handlers/types.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { jobRow, WorkerPool } from "../helpers/engine.ts";
import { waitFor } from "../helpers/wait.ts";

// Generous: the suite shares a small machine; waits inside tests have their own deadlines.
setDefaultTimeout(30_000);

let db: TestDatabase;
let queue: Queue;
const pool = new WorkerPool();
let started: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  queue = new Queue(db.sql);
});
afterEach(async () => {
  await pool.stopAll();
  await db.sql`DELETE FROM claude_jobs`;
  started = [];
});
afterAll(() => db.drop());

const ago = (ms: number) => new Date(Date.now() - ms);
const record = async ({ job }: HandlerContext) => {
  started.push(job.payload.name as string);
};

/** Enqueues the jobs, then runs one worker at concurrency 1 until all `expected` have run. */
async function runInOrder(jobs: EnqueueParams[], queues: string[], expected: number): Promise<string[]> {
  await queue.enqueueMany(jobs);
  await pool.start({ sql: db.sql, handlers: { rec: record }, queues, concurrency: 1 });
  await waitFor(`${expected} jobs to run`, () => started.length >= expected);
  return started;
}

const job = (name: string, queueName: string, priority: number, ageMs: number): EnqueueParams =>
  ({ kind: "rec", queue: queueName, priority, runAt: ago(ageMs), payload: { name } });

describe("claim order", () => {
  test("with --queues=high,default,low the high queue is served first, even at a lower priority", async () => {
    const order = await runInOrder([
      job("low-100", "low", 100, 5000), job("default-10", "default", 10, 4000),
      job("high-neg5", "high", -5, 1000), job("high-0", "high", 0, 500), job("default-50", "default", 50, 100),
    ], ["high", "default", "low"], 5);
    expect(order).toEqual(["high-0", "high-neg5", "default-50", "default-10", "low-100"]);
  });

  test("within a queue, higher priority runs first, then the older run_at", async () => {
    const order = await runInOrder([
      job("p0-newer", "default", 0, 3000), job("p5-newer", "default", 5, 1000),
      job("p5-older", "default", 5, 2000), job("p0-older", "default", 0, 4000),
    ], ["default"], 4);
    expect(order).toEqual(["p5-older", "p5-newer", "p0-older", "p0-newer"]);
  });

  test("`*` serves every queue by priority alone", async () => {
    const order = await runInOrder([
      job("a-1", "a", 1, 5000), job("b-9", "b", 9, 100), job("c-5", "c", 5, 3000), job("a-5", "a", 5, 4000),
    ], ["*"], 4);
    expect(order).toEqual(["b-9", "a-5", "c-5", "a-1"]);
  });

  test("a queue that is not listed is not served", async () => {
    const [other] = await queue.enqueueMany([job("other", "other", 1000, 1000)]);
    const order = await runInOrder([job("mine", "mine", 0, 0)], ["mine"], 1);
    expect(order).toEqual(["mine"]);
    expect((await jobRow(db.sql, other!)).status).toBe("queued");
  });

  test("a scheduled job is not claimed until it is due", async () => {
    const runAt = new Date(Date.now() + 1500);
    const id = await queue.enqueue({ kind: "rec", runAt, payload: { name: "scheduled" } });
    const due = await queue.enqueue({ kind: "rec", payload: { name: "due" } });
    await pool.start({ sql: db.sql, handlers: { rec: record }, concurrency: 4 });
    await waitFor("the due job to finish", async () => (await jobRow(db.sql, due)).status === "finished");
    expect(started).toEqual(["due"]);
    expect((await jobRow(db.sql, id)).status).toBe("queued");
    await waitFor("the scheduled job to finish", async () => (await jobRow(db.sql, id)).status === "finished");
    const job = await jobRow(db.sql, id);
    expect(job.startedAt!.getTime()).toBeGreaterThanOrEqual(runAt.getTime());
  });

  test("a worker claims only the kinds it has handlers for", async () => {
    const foreign = await queue.enqueue({ kind: "foreign", priority: 1000, payload: { name: "foreign" } });
    const order = await runInOrder([job("mine-1", "default", 0, 200), job("mine-2", "default", 0, 100)], ["*"], 2);
    expect(order).toEqual(["mine-1", "mine-2"]);
    const row = await jobRow(db.sql, foreign);
    expect(row.status).toBe("queued");
    expect(row.attempts).toBe(0);
  });
});
