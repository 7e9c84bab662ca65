// Queue.stats at scale comes from claude_job_counts (final states, kept by
// triggers) plus the live states counted from partial indexes. These tests
// hold it to the truth: after every kind of change (enqueue, claim, complete,
// retry, cancel, delete, rescue, run-now, bulk actions, truncate, and many
// workers completing at once) it equals a plain count of the status column.

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test, setDefaultTimeout } from "bun:test";
import { Queue, type Stats } from "../../src/queue/client.ts";
import { jobClaim, jobCompleteMany, jobRescue, type ClaimParams, type Completion } from "../../src/db/jobs.ts";
import { dashCancelMany, dashRetryMany } from "../../src/db/dashboard.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { WorkerPool } from "../helpers/engine.ts";
import type { Queryable, Sql } from "../../src/db/connect.ts";
import { waitFor } from "../helpers/wait.ts";

setDefaultTimeout(30_000);

/** A claim as a worker's lock session makes it: on one session, naming its backend pid. */
async function claim(sql: Sql, p: Omit<ClaimParams, "lockBackendPid">) {
  const session = await sql.reserve();
  try {
    const [row] = await session`SELECT pg_backend_pid() AS pid`;
    return await jobClaim(session as unknown as Sql, { ...p, lockBackendPid: row!.pid as number });
  } finally {
    session.release();
  }
}

let db: TestDatabase;
let queue: Queue;
const pool = new WorkerPool();

beforeAll(async () => {
  db = await createTestDatabase({ max: 12 });
  queue = new Queue(db.sql);
});
beforeEach(async () => {
  await db.sql`TRUNCATE claude_jobs`;
});
afterEach(() => pool.stopAll());
afterAll(() => db.drop());

/** The counts as a full scan of the table gives them: the definition stats must meet. */
async function truth(sql: Queryable = db.sql): Promise<Stats["queues"]> {
  const rows = await sql`
    SELECT queue,
           count(*) FILTER (WHERE status = 'waiting')::int AS waiting,
           count(*) FILTER (WHERE status = 'queued' AND run_at <= now())::int AS queued,
           count(*) FILTER (WHERE status = 'queued' AND run_at > now())::int AS scheduled,
           count(*) FILTER (WHERE status = 'running')::int AS running,
           count(*) FILTER (WHERE status = 'finished')::int AS finished,
           count(*) FILTER (WHERE status = 'failed')::int AS failed,
           count(*) FILTER (WHERE status = 'cancelled')::int AS cancelled
    FROM claude_jobs GROUP BY queue ORDER BY queue`;
  return rows.map((r) => ({ ...r })) as unknown as Stats["queues"];
}

async function expectExact(): Promise<Stats> {
  const stats = await queue.stats();
  expect(stats.queues).toEqual(await truth());
  return stats;
}

const enqueue = (n: number, queueName = "default", delay?: string, maxAttempts = 3) =>
  queue.enqueueMany(Array.from({ length: n }, (_, i) => ({ kind: "noop", queue: queueName, payload: { i }, maxAttempts, ...(delay ? { delay } : {}) })));

const outcome = (id: string, status: Completion["status"], attempt = 1): Completion =>
  ({ id, attempt, status, error: status === "finished" ? null : "boom", result: null, retryInMs: 60_000, refund: false });

describe("stats stay exact", () => {
  test("through enqueue, claim, complete in every outcome, retry, cancel and delete", async () => {
    await enqueue(6, "a");
    await enqueue(2, "b", "1h");
    let s = await expectExact();
    expect([s.queued, s.scheduled, s.total]).toEqual([6, 2, 8]);

    const claimed = await claim(db.sql, { workerId: 1, queues: ["a"], kinds: ["noop"], limit: 5 });
    expect(claimed).toHaveLength(5);
    s = await expectExact();
    expect([s.queued, s.running]).toEqual([1, 5]);

    const [f1, f2, x, c, r] = claimed.map((j) => j.id) as [string, string, string, string, string];
    await jobCompleteMany(db.sql, 1, [outcome(f1, "finished"), outcome(f2, "finished"), outcome(x, "failed"),
      outcome(c, "cancelled"), outcome(r, "queued")]);
    s = await expectExact();
    expect([s.finished, s.failed, s.cancelled, s.queued, s.scheduled, s.running]).toEqual([2, 1, 1, 1, 3, 0]);

    await queue.retry(x);
    await queue.retry(c);
    s = await expectExact();
    expect([s.failed, s.cancelled, s.queued]).toEqual([0, 0, 3]);

    await queue.cancel(x);
    await queue.delete(f1);
    await queue.delete(x);
    await queue.runNow(r);
    s = await expectExact();
    expect([s.finished, s.cancelled, s.total]).toEqual([1, 0, 6]);
  });

  test("a completion fenced away (another worker's attempt) changes no count", async () => {
    const [id] = await enqueue(1);
    await claim(db.sql, { workerId: 1, queues: null, kinds: ["noop"], limit: 1 });
    expect(await jobCompleteMany(db.sql, 2, [outcome(id!, "finished")])).toEqual(new Set());
    const s = await expectExact();
    expect([s.running, s.finished]).toEqual([1, 0]);
  });

  test("through rescue of a dead worker's jobs: back to the queue, failed, or cancelled", async () => {
    const ids = await queue.enqueueMany([
      { kind: "noop", queue: "r", payload: {}, maxAttempts: 3 },
      { kind: "noop", queue: "r", payload: {}, maxAttempts: 1 },
      { kind: "noop", queue: "r", payload: {}, maxAttempts: 3 },
    ]);
    // Worker 424242 holds no advisory lock: to the rescuer it is dead.
    await claim(db.sql, { workerId: 424242, queues: null, kinds: ["noop"], limit: 3 });
    await db.sql`UPDATE claude_jobs SET cancel_requested_at = now() WHERE id = ${ids[2]!}`;
    await expectExact();
    expect((await jobRescue(db.sql)).rescued).toHaveLength(3);
    const s = await expectExact();
    expect([s.queued, s.failed, s.cancelled, s.running]).toEqual([1, 1, 1, 0]);
  });

  test("through bulk cancel and retry, direct SQL, queue moves and truncate", async () => {
    const ids = await enqueue(10, "bulk");
    await dashCancelMany(db.sql, ids.slice(0, 7));
    await expectExact();
    await dashRetryMany(db.sql, ids.slice(0, 4));
    await expectExact();
    // Any statement is counted, not only the engine's: a manual fix-up too.
    await db.sql`UPDATE claude_jobs SET queue = 'moved' WHERE id = ANY(${ids.slice(4, 6)})`;
    await db.sql`DELETE FROM claude_jobs WHERE id = ${ids[6]!}`;
    await db.sql`INSERT INTO claude_jobs (id, kind, queue, status, finished_at) VALUES (${Bun.randomUUIDv7()}, 'noop', 'manual', 'failed', now())`;
    const s = await expectExact();
    expect(s.queues.map((q) => q.queue)).toEqual(["bulk", "manual", "moved"]);
    await db.sql`TRUNCATE claude_jobs`;
    expect((await expectExact()).total).toBe(0);
    expect(await db.sql`SELECT * FROM claude_job_counts`).toHaveLength(0);
  });

  test("a queue whose jobs are all deleted is no longer listed", async () => {
    const [id] = await enqueue(1, "gone");
    await queue.cancel(id!);
    expect((await expectExact()).queues.map((q) => q.queue)).toEqual(["gone"]);
    await queue.delete(id!);
    expect((await expectExact()).queues).toEqual([]);
  });

  test("a rolled-back change leaves the counts as they were", async () => {
    const [id] = await enqueue(1);
    await queue.cancel(id!);
    await db.sql.begin(async (tx) => {
      await tx`DELETE FROM claude_jobs WHERE id = ${id!}`;
      throw new Error("roll back");
    }).catch(() => {});
    expect((await expectExact()).cancelled).toBe(1);
  });
});

describe("stats under concurrent workers", () => {
  test("three workers draining 600 jobs that finish, fail and retry: counts exact during and after", async () => {
    let n = 0;
    const handler = async () => {
      n += 1;
      if (n % 5 === 0) throw new Error("every fifth attempt fails");
    };
    for (let i = 0; i < 3; i++) {
      await pool.start({ sql: db.sql, concurrency: 10, handlers: { noop: handler } });
    }
    // Queue x fails at once; queue y retries a failed attempt once (after a 1 s backoff).
    await enqueue(300, "x", undefined, 1);
    await enqueue(300, "y", undefined, 2);
    // Mid-drain: the same snapshot gives the same answer both ways.
    for (let i = 0; i < 5; i++) {
      const [a, b] = await db.sql.begin("ISOLATION LEVEL REPEATABLE READ", async (tx) => {
        const q = new Queue(tx as unknown as Sql);
        return [(await q.stats()).queues, await truth(tx)];
      });
      expect(a).toEqual(b);
    }
    await waitFor("the queues to drain", async () => {
      const s = await queue.stats();
      return s.queued + s.running === 0 && s.scheduled === 0;
    }, { timeoutMs: 25_000 });
    const s = await expectExact();
    expect(s.finished + s.failed).toBe(600);
  });

  test("concurrent completions from many connections never deadlock and sum exactly", async () => {
    const ids = await enqueue(400, "c");
    await claim(db.sql, { workerId: 7, queues: null, kinds: ["noop"], limit: 400 });
    const statuses = ["finished", "failed", "cancelled"] as const;
    // 40 batches of 10 at once over the pool's 12 connections, each batch mixing outcomes and two queues' rows.
    await db.sql`UPDATE claude_jobs SET queue = 'd' WHERE id = ANY(${ids.filter((_, i) => i % 2 === 0)})`;
    await Promise.all(Array.from({ length: 40 }, (_, b) =>
      jobCompleteMany(db.sql, 7, ids.slice(b * 10, b * 10 + 10).map((id, i) => outcome(id, statuses[(b + i) % 3]!)))));
    const s = await expectExact();
    expect(s.finished + s.failed + s.cancelled).toBe(400);
    const [shards] = await db.sql`SELECT count(DISTINCT shard)::int AS n FROM claude_job_counts`;
    expect(shards!.n).toBeGreaterThan(1);
  });
});
