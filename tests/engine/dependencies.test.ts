// Dependencies: a job enqueued `after` others waits until all have finished,
// released by the completion of the last one in its own transaction (no
// polling); cancelled, naming the parent, when one fails or is cancelled.

import { afterAll, afterEach, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { Queue } from "../../src/queue/client.ts";
import { InputError } from "../../src/errors.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createRunsTable, killAll, startWorkerProcess, type WorkerProcess } from "../helpers/worker-process.ts";
import { jobRow } from "../helpers/engine.ts";
import { waitFor } from "../helpers/wait.ts";

setDefaultTimeout(60_000);

let db: TestDatabase;
let queue: Queue;
const children: WorkerProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  await createRunsTable(db.sql);
  queue = new Queue(db.sql);
});
afterEach(() => killAll(children));
afterAll(() => db.drop());

const FINAL = ["finished", "failed", "cancelled"];

describe("dependencies", () => {
  test("a job after others waits, and is released by the completion of the last in that same transaction", async () => {
    const [a, b] = await queue.enqueueMany([{ kind: "x", payload: {} }, { kind: "x", payload: {} }]);
    const child = await queue.submit({ kind: "x", payload: {}, after: [a!, b!] });
    expect(child.status).toBe("waiting");
    await db.sql`UPDATE claude_jobs SET status = 'finished', finished_at = now() WHERE id = ${a!}`;
    expect((await jobRow(db.sql, child.id)).status).toBe("waiting");
    await db.sql.begin(async (tx) => {
      await tx`UPDATE claude_jobs SET status = 'finished', finished_at = now() WHERE id = ${b!}`;
      // Inside the completing transaction, before its commit: already released.
      const [row] = await tx`SELECT status FROM claude_jobs WHERE id = ${child.id}`;
      expect(row!.status).toBe("queued");
    });
    // After parents that have all finished, a new job is queued at once.
    expect((await queue.submit({ kind: "x", payload: {}, after: [a!, b!] })).status).toBe("queued");
  });

  test("a parent that fails for good or is cancelled cancels its waiting dependents down the chain, naming itself", async () => {
    const parent = await queue.enqueue({ kind: "x", payload: {} });
    const child = await queue.enqueue({ kind: "x", payload: {}, after: [parent] });
    const grandchild = await queue.enqueue({ kind: "x", payload: {}, after: [child] });
    await queue.cancel(parent);
    const c = await jobRow(db.sql, child);
    expect(c.status).toBe("cancelled");
    expect(c.error).toBe(`cancelled because job ${parent}, which it waited for, was cancelled`);
    const g = await jobRow(db.sql, grandchild);
    expect(g.status).toBe("cancelled");
    expect(g.error).toContain(child);
    // Retrying the child puts it back to waiting: its parent has not finished.
    expect((await queue.retry(child)).status).toBe("waiting");
  });

  test("a waiting job can be cancelled itself; after a failed or unknown job is refused naming the entry", async () => {
    const parent = await queue.enqueue({ kind: "x", payload: {} });
    const child = await queue.enqueue({ kind: "x", payload: {}, after: [parent] });
    expect((await queue.cancel(child)).status).toBe("cancelled");
    await db.sql`UPDATE claude_jobs SET status = 'failed', finished_at = now() WHERE id = ${parent}`;
    const before = (await db.sql`SELECT count(*)::int AS n FROM claude_jobs`)[0]!.n;
    const failed = await queue.enqueue({ kind: "x", payload: {}, after: [parent] }).catch((e) => e);
    expect(failed).toBeInstanceOf(InputError);
    expect((failed as InputError).field).toBe("after[0]");
    expect((failed as InputError).message).toContain("failed");
    const unknown = await queue.enqueue({ kind: "x", payload: {}, after: ["01900000-0000-7000-8000-000000000000"] }).catch((e) => e);
    expect((unknown as InputError).field).toBe("after[0]");
    expect((unknown as InputError).message).toContain("no job with id");
    const badRef = await queue.enqueueMany([{ kind: "x", payload: {}, after: [0] }]).catch((e) => e);
    expect((badRef as InputError).field).toBe("jobs[0].after[0]");
    expect((await db.sql`SELECT count(*)::int AS n FROM claude_jobs`)[0]!.n).toBe(before);
  });

  test("in a bulk enqueue a job may wait for an earlier one of the same batch, by its index", async () => {
    const [build, test1, test2, deploy] = await queue.submitMany([
      { kind: "x", payload: { step: "build" } },
      { kind: "x", payload: { step: "test1" }, after: [0] },
      { kind: "x", payload: { step: "test2" }, after: [0] },
      { kind: "x", payload: { step: "deploy" }, after: [1, 2] },
    ]);
    expect([build, test1, test2, deploy].map((o) => o!.status)).toEqual(["queued", "waiting", "waiting", "waiting"]);
    const deps = await db.sql`SELECT parent_id FROM claude_job_deps WHERE job_id = ${deploy!.id} ORDER BY parent_id`;
    expect(deps.map((d) => d.parent_id)).toEqual([test1!.id, test2!.id].sort());
  });

  test("three worker processes run forty diamonds in dependency order, each job once; a failed root cancels its diamond", async () => {
    await db.sql`TRUNCATE claude_jobs`;
    const jobs: Parameters<Queue["submitMany"]>[0] = [];
    for (let d = 0; d < 40; d++) {
      const base = jobs.length;
      const rootKind = d % 10 === 9 ? "fail" : "record";
      jobs.push({ kind: rootKind, payload: { sleepMs: 20, d } });
      jobs.push({ kind: "record", payload: { sleepMs: 20, d }, after: [base] });
      jobs.push({ kind: "record", payload: { sleepMs: 20, d }, after: [base] });
      jobs.push({ kind: "record", payload: { sleepMs: 20, d }, after: [base + 1, base + 2] });
    }
    const outcomes = await queue.submitMany(jobs);
    for (let i = 0; i < 3; i++) children.push(await startWorkerProcess(db.url, { CONCURRENCY: "4" }));
    await waitFor("every job to end", async () => {
      const [row] = await db.sql`SELECT count(*)::int AS n FROM claude_jobs WHERE status = ANY(${FINAL})`;
      return row!.n === jobs.length;
    }, { timeoutMs: 45_000 });

    const runs = await db.sql`SELECT job_id, count(*)::int AS n, min(started_at) AS started, max(ended_at) AS ended FROM test_runs GROUP BY job_id`;
    const run = new Map(runs.map((r) => [r.job_id as string, r]));
    for (const r of runs) expect(r.n).toBe(1); // no job ran twice
    for (let d = 0; d < 40; d++) {
      const [root, left, right, join] = outcomes.slice(d * 4, d * 4 + 4).map((o) => o.id);
      if (d % 10 === 9) {
        // The root failed: nothing after it ran; all three ended cancelled, naming their parent.
        for (const id of [left!, right!, join!]) {
          expect(run.has(id)).toBe(false);
          expect((await jobRow(db.sql, id)).status).toBe("cancelled");
        }
        expect((await jobRow(db.sql, left!)).error).toContain(`job ${root}, which it waited for, failed`);
        continue;
      }
      for (const id of [root!, left!, right!, join!]) expect((await jobRow(db.sql, id)).status).toBe("finished");
      // Each started only after what it waited for had ended.
      expect(run.get(left!)!.started >= run.get(root!)!.ended).toBe(true);
      expect(run.get(right!)!.started >= run.get(root!)!.ended).toBe(true);
      expect(run.get(join!)!.started >= run.get(left!)!.ended).toBe(true);
      expect(run.get(join!)!.started >= run.get(right!)!.ended).toBe(true);
    }
  });

  test("dependents enqueued while their parents complete, many times over: none is left waiting", async () => {
    await db.sql`TRUNCATE claude_jobs`;
    const parents = await queue.enqueueMany(Array.from({ length: 150 }, () => ({ kind: "x", payload: {} })));
    // Complete the parents one by one on one connection while another enqueues their dependents.
    const complete = (async () => {
      for (const id of parents) await db.sql`UPDATE claude_jobs SET status = 'finished', finished_at = now() WHERE id = ${id}`;
    })();
    const children = await Promise.all(parents.map((p) => queue.enqueue({ kind: "x", payload: {}, after: [p] })));
    await complete;
    const [stuck] = await db.sql`SELECT count(*)::int AS n FROM claude_jobs WHERE status = 'waiting'`;
    expect(stuck!.n).toBe(0);
    const [queued] = await db.sql`SELECT count(*)::int AS n FROM claude_jobs WHERE id = ANY(${children}::uuid[]) AND status = 'queued'`;
    expect(queued!.n).toBe(150);
  });
});

describe("dependencies and deletion", () => {
  test("deleting a job that has not finished cancels what waits for it, naming it; a finished one's deletion changes nothing", async () => {
    const parent = await queue.enqueue({ kind: "x", payload: {} });
    const child = await queue.enqueue({ kind: "x", payload: {}, after: [parent] });
    await queue.delete(parent);
    const c = await jobRow(db.sql, child);
    expect(c.status).toBe("cancelled");
    expect(c.error).toBe(`cancelled because job ${parent}, which it waited for, was deleted`);
    const [deps] = await db.sql`SELECT count(*)::int AS n FROM claude_job_deps WHERE parent_id = ${parent}`;
    expect(deps!.n).toBe(0);

    const done = await queue.enqueue({ kind: "x", payload: {} });
    const released = await queue.enqueue({ kind: "x", payload: {}, after: [done] });
    await db.sql`UPDATE claude_jobs SET status = 'finished', finished_at = now() WHERE id = ${done}`;
    await queue.delete(done);
    expect((await jobRow(db.sql, released)).status).toBe("queued");
  });
});

describe("retrying a dependent", () => {
  test("a retry while its parent's completion is being committed waits for it, then sees it finished: not left waiting", async () => {
    const parent = await queue.enqueue({ kind: "x", payload: {} });
    const child = await queue.enqueue({ kind: "x", payload: {}, after: [parent] });
    await db.sql`UPDATE claude_jobs SET status = 'cancelled', finished_at = now() WHERE id = ${child}`;
    await db.sql`UPDATE claude_jobs SET status = 'running', worker_id = 1, started_at = now(), attempts = 1 WHERE id = ${parent}`;
    let retried: Promise<unknown> | null = null;
    await db.sql.begin(async (tx) => {
      await tx`UPDATE claude_jobs SET status = 'finished', finished_at = now(), worker_id = 1 WHERE id = ${parent}`;
      // The retry reads the parent through a share lock: it waits for this transaction.
      retried = queue.retry(child);
      await Bun.sleep(300);
    });
    expect((await retried) as unknown as { status: string }).toMatchObject({ status: "queued" });
    expect((await jobRow(db.sql, child)).status).toBe("queued");
  });

  test("a job whose unique key another job now holds cannot be retried: a conflict naming the holder", async () => {
    const first = await queue.enqueue({ kind: "x", payload: {}, uniqueKey: "retry-held" });
    await db.sql`UPDATE claude_jobs SET status = 'failed', finished_at = now() WHERE id = ${first}`;
    const second = await queue.enqueue({ kind: "x", payload: {}, uniqueKey: "retry-held" });
    const e = await queue.retry(first).catch((x) => x);
    expect((e as Error).name).toBe("ConflictError");
    expect((e as Error).message).toBe(`job ${first} cannot be retried: job ${second} (queued) holds its unique key "retry-held"`);
    await db.sql`UPDATE claude_jobs SET status = 'finished', finished_at = now() WHERE id = ${second}`;
    expect((await queue.retry(first)).status).toBe("queued");
  });
});
