// Invariant 2: a lost session is not a dead worker. A worker whose lock
// session (or every backend it had) is cut while it lives takes the same lock
// again and keeps its jobs: they run once and their outcomes are written. A
// worker that cannot prove its lock for fenceAfterMs stops its jobs itself,
// and rescuers wait longer than that (the grace the worker declared) before
// they take them: the two executions never overlap. A worker started while
// PostgreSQL cannot be reached waits for it.

import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createSql, type Sql } from "../../src/db/connect.ts";
import { jobClaim, jobRescue } from "../../src/db/jobs.ts";
import { workerRegister, workerRelock } from "../../src/db/workers.ts";
import type { HandlerContext } from "../../src/handlers/types.ts";
import { Queue } from "../../src/queue/client.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { aborted, FAST, gate, jobRow, nextEvent, WorkerPool } from "../helpers/engine.ts";
import { CuttableProxy } from "../helpers/proxy.ts";
import { waitFor } from "../helpers/wait.ts";

setDefaultTimeout(60_000);

let db: TestDatabase;
let queue: Queue;
let proxy: CuttableProxy;
const pool = new WorkerPool();
const clients: Sql[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  queue = new Queue(db.sql);
  proxy = await new CuttableProxy().start();
});
afterEach(async () => {
  await proxy.mend();
  await pool.stopAll();
  await Promise.all(clients.splice(0).map((c) => c.end({ timeout: 1 })));
});
afterAll(async () => {
  await proxy.stop();
  await db.drop();
});

function client(url: string, applicationName: string): Sql {
  const sql = createSql(url, { max: 3, applicationName });
  clients.push(sql);
  return sql;
}

/** Every execution of every job, as the handler saw it. */
type Execution = { id: string; attempt: number; start: number; end: number | null; how: string };

function recordingHandler(executions: Execution[], until: Promise<unknown>) {
  return async ({ job, signal }: HandlerContext) => {
    const e: Execution = { id: job.id, attempt: job.attempts, start: performance.now(), end: null, how: "" };
    executions.push(e);
    const reason = await Promise.race([until.then(() => null), aborted(signal)]);
    e.end = performance.now();
    e.how = reason === null ? "finished" : (reason as { kind: string }).kind;
    if (reason !== null) throw new Error("stopped");
    return { attempt: job.attempts };
  };
}

async function lockHolderPids(workerId: number): Promise<number[]> {
  const rows = await db.sql`SELECT l.pid FROM pg_locks l
    WHERE l.locktype = 'advisory' AND l.classid = 17226 AND l.objsubid = 2 AND l.objid = ${workerId} AND l.granted
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`;
  return rows.map((r) => r.pid as number);
}

describe("a live worker that loses its session keeps its jobs", () => {
  test("its lock session terminated: the same lock is taken again, the job runs once and its outcome is written", async () => {
    const done = gate();
    const executions: Execution[] = [];
    const worker = await pool.start({ sql: db.sql, ...FAST, handlers: { job: recordingHandler(executions, done.promise) } });
    // Another live worker, rescuing every 100 ms: it must not take the job.
    const rescuer = await pool.start({ sql: db.sql, ...FAST, rescueIntervalMs: 100, queues: ["elsewhere"], handlers: { job: async () => {} } });
    const rescued: unknown[] = [];
    rescuer.on("job:rescued", (jobs: unknown[]) => rescued.push(...jobs));
    const id = await queue.enqueue({ kind: "job", payload: {} });
    await waitFor("the job to run", () => executions.length === 1);

    const back = nextEvent<{ id: number; generation: number; fenced: boolean }>(worker, "worker:reconnected");
    const [holder] = await lockHolderPids(worker.id);
    await db.sql`SELECT pg_terminate_backend(${holder!})`;
    const event = await back;
    expect(event).toMatchObject({ id: worker.id, generation: 2, fenced: false });
    expect(await lockHolderPids(worker.id)).toHaveLength(1);
    expect((await lockHolderPids(worker.id))[0]).not.toBe(holder);
    // Let the rescuer look a few times while the job still runs.
    await Bun.sleep(500);
    done.open();
    await waitFor("the job to finish", async () => (await jobRow(db.sql, id)).status === "finished");
    const job = await jobRow(db.sql, id);
    expect(job).toMatchObject({ attempts: 1, workerId: worker.id, result: { attempt: 1 }, errors: [] });
    expect(executions.map((e) => e.how)).toEqual(["finished"]);
    expect(rescued).toEqual([]);
  });

  test("every backend it had terminated (pool, lock, LISTEN): it goes on with the same id and jobs", async () => {
    const done = gate();
    const executions: Execution[] = [];
    const sql = client(db.url, "lost-session-all");
    const worker = await pool.start({ sql, ...FAST, handlers: { job: recordingHandler(executions, done.promise) } });
    const ids = await queue.enqueueMany([1, 2, 3].map(() => ({ kind: "job", payload: {} })));
    await waitFor("the jobs to run", () => executions.length === 3);
    const back = nextEvent(worker, "worker:reconnected");
    const ended = await db.sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE application_name LIKE 'lost-session-all%' AND datname = current_database()`;
    expect(ended.length).toBeGreaterThanOrEqual(2);
    await back;
    done.open();
    for (const id of ids) await waitFor("each job to finish", async () => (await jobRow(db.sql, id)).status === "finished");
    for (const id of ids) expect((await jobRow(db.sql, id)).attempts).toBe(1);
    expect(executions.map((e) => e.how)).toEqual(["finished", "finished", "finished"]);
    // And it still claims: a new job runs.
    const next = await queue.enqueue({ kind: "job", payload: {} });
    await waitFor("a new job to run", () => executions.some((e) => e.id === next));
  });

  test("a claim that committed while its answer was lost: after the lock is taken again the job goes back and runs", async () => {
    const ran: string[] = [];
    const worker = await pool.start({ sql: db.sql, ...FAST, handlers: { job: async ({ job }: HandlerContext) => { ran.push(job.id); } } });
    // As a claim leaves it: running under this worker, attempt counted, and nothing runs it.
    const id = await queue.enqueue({ kind: "job", payload: {}, delay: "1h" });
    await db.sql`UPDATE claude_jobs SET status = 'running', worker_id = ${worker.id}, attempts = 1, started_at = now() WHERE id = ${id}`;
    const back = nextEvent(worker, "worker:reconnected");
    const [holder] = await lockHolderPids(worker.id);
    await db.sql`SELECT pg_terminate_backend(${holder!})`;
    await back;
    await waitFor("the job to be put back and run", () => ran.includes(id));
    await waitFor("it to finish", async () => (await jobRow(db.sql, id)).status === "finished");
    expect((await jobRow(db.sql, id)).attempts).toBe(1); // the lost claim's attempt was not counted
  });
});

describe("the worker's own connections", () => {
  test("a query that gets no answer in time is given up, and the client is replaced by a fresh one", async () => {
    const { WorkerDb } = await import("../../src/worker/db.ts");
    const { isDatabaseUnavailable } = await import("../../src/db/unavailable.ts");
    const wdb = new WorkerDb(db.sql, "own-connections", 1);
    try {
      const [first] = await wdb.run((sql) => sql`SELECT pg_backend_pid() AS pid`);
      const error = await wdb.run((sql) => sql`SELECT pg_sleep(5)`, 200).catch((e: unknown) => e);
      expect(isDatabaseUnavailable(error)).toBe(true);
      // The stuck client held the only connection; the new one answers at once, on another backend.
      const [second] = await wdb.run((sql) => sql`SELECT pg_backend_pid() AS pid`, 2000);
      expect(second!.pid).not.toBe(first!.pid);
    } finally {
      await wdb.end();
    }
  });
});

describe("a worker that cannot prove its lock fences itself before anyone may rescue", () => {
  test("cut off from PostgreSQL, it stops its job; the rescue comes only after, and the second run starts after the first ended", async () => {
    const executions: Execution[] = [];
    const never = new Promise(() => {});
    const sql = client(proxy.urlFor(db.name), "fenced-worker");
    const worker = await pool.start({
      sql, pollIntervalMs: 100, rescueIntervalMs: 200, lockProbeIntervalMs: 200, fenceAfterMs: 1500,
      handlers: { job: recordingHandler(executions, never) },
    });
    expect(worker.timings.rescueGraceMs).toBeGreaterThan(worker.timings.fenceAfterMs + worker.timings.stopWithinMs);
    const events: string[] = [];
    for (const name of ["worker:disconnected", "worker:fenced", "worker:reconnected"]) worker.on(name, () => events.push(name));
    const rescuer = await pool.start({ sql: db.sql, ...FAST, rescueIntervalMs: 100, queues: ["elsewhere"], handlers: { job: async () => {} } });
    let rescuedAt = 0;
    rescuer.on("job:rescued", () => (rescuedAt ||= performance.now()));

    const id = await queue.enqueue({ kind: "job", payload: {}, maxAttempts: 3 });
    await waitFor("the job to run", () => executions.length === 1);
    const cutAt = performance.now();
    await proxy.cut();
    await waitFor("the worker to fence itself", () => events.includes("worker:fenced"), { timeoutMs: 10_000 });
    expect(executions[0]).toMatchObject({ how: "lost_ownership" });
    expect(rescuedAt).toBe(0); // nobody took it while it could still have been running
    await waitFor("the rescuer to take the job", () => rescuedAt > 0, { timeoutMs: 30_000 });
    expect(executions[0]!.end!).toBeLessThan(rescuedAt);
    // The rescuer waited out the fenced worker's grace, counted from its first sight of the missing lock.
    expect(rescuedAt - cutAt).toBeGreaterThanOrEqual(worker.timings.rescueGraceMs - 1000);

    await proxy.mend();
    await waitFor("the job to run again", () => executions.length === 2, { timeoutMs: 20_000 });
    expect(events).toContain("worker:reconnected");
    expect(executions[1]!.start).toBeGreaterThan(executions[0]!.end!);
    const job = await jobRow(db.sql, id);
    expect(job.attempts).toBe(2); // the rescue counted the first attempt
    expect(job.errors.map((e) => e.message)).toEqual([expect.stringContaining("died while running attempt 1")]);
  });
});

describe("a worker started while PostgreSQL cannot be reached", () => {
  test("waits for it, says so once, then runs jobs", async () => {
    await proxy.cut();
    const { Worker } = await import("../../src/worker/worker.ts");
    const sql = client(proxy.urlFor(db.name), "waiting-worker");
    const ran: string[] = [];
    const worker = new Worker({ sql, ...FAST, handlers: { job: async ({ job }: HandlerContext) => { ran.push(job.id); } } });
    const waiting: unknown[] = [];
    worker.on("worker:waiting", (e) => waiting.push(e));
    const started = worker.start();
    await waitFor("the worker to say it waits", () => waiting.length === 1);
    await Bun.sleep(1500);
    expect(waiting).toHaveLength(1);
    expect(worker.state).toBe("starting");
    const id = await queue.enqueue({ kind: "job", payload: {} });
    await proxy.mend();
    await started;
    expect(worker.state).toBe("running");
    await waitFor("the job to run", () => ran.includes(id));
    await worker.stop();
  });

  test("stopped while it waits, it stops at once and leaves nothing behind", async () => {
    await proxy.cut();
    const { Worker } = await import("../../src/worker/worker.ts");
    const worker = new Worker({ sql: client(proxy.urlFor(db.name), "never-started"), ...FAST, handlers: { job: async () => {} } });
    const started = worker.start();
    await nextEvent(worker, "worker:waiting");
    await worker.stop();
    await started;
    expect(worker.state).toBe("stopped");
    expect(worker.id).toBe(0);
  });
});

describe("the claim and the rescue in the database", () => {
  test("a claim sent on a session that does not hold the lock (a wrong backend pid) claims nothing", async () => {
    const id = await queue.enqueue({ kind: "lonely", payload: {} });
    const session = await db.sql.reserve();
    try {
      const jobs = await jobClaim(session as unknown as Sql, { workerId: 1, queues: null, kinds: ["lonely"], limit: 5, lockBackendPid: -1 });
      expect(jobs).toEqual([]);
    } finally {
      session.release();
    }
    expect((await jobRow(db.sql, id)).status).toBe("queued");
  });

  test("a missing lock is rescued only after the worker's grace, counted again from a new generation", async () => {
    const workerId = await workerRegister(db.sql, {
      host: "elsewhere", pid: 1, queues: ["*"], concurrency: 1, version: "test", rescueGraceMs: 3000,
      pidSpace: "another-host", pidStart: "1", ownerToken: null, kinds: ["orphan"],
    });
    const id = await queue.enqueue({ kind: "orphan", payload: {} });
    await db.sql`UPDATE claude_jobs SET status = 'running', worker_id = ${workerId}, attempts = 1, started_at = now() WHERE id = ${id}`;

    const first = await jobRescue(db.sql);
    expect(first.rescued).toEqual([]);
    expect(first.suspects).toEqual([expect.objectContaining({ workerId, pidSpace: "another-host" })]);
    // The worker takes its lock again (a new generation) and loses it again:
    // the old suspicion is void, whatever its age, and the grace starts over.
    await Bun.sleep(2000);
    await workerRelock(db.sql, workerId);
    expect((await jobRescue(db.sql)).rescued).toEqual([]);
    await Bun.sleep(1500); // past the grace since the first sight, within it since the second
    expect((await jobRescue(db.sql)).rescued).toEqual([]);
    await Bun.sleep(2000);
    const last = await jobRescue(db.sql);
    expect(last.rescued).toEqual([expect.objectContaining({ id, status: "queued", workerId })]);

    // A worker proven dead by the caller needs no grace.
    const other = await queue.enqueue({ kind: "orphan", payload: {} });
    await db.sql`UPDATE claude_jobs SET status = 'running', worker_id = ${workerId}, attempts = 1, started_at = now() WHERE id = ${other}`;
    await workerRelock(db.sql, workerId);
    expect((await jobRescue(db.sql)).rescued).toEqual([]);
    expect((await jobRescue(db.sql, [workerId])).rescued).toEqual([expect.objectContaining({ id: other })]);
  });
});

describe("a fence is not spent once", () => {
  test("a worker fenced by a starved event loop, proven again, fences its next jobs too when it is cut off", async () => {
    const executions: Execution[] = [];
    const never = new Promise(() => {});
    const sql = client(proxy.urlFor(db.name), "fenced-twice");
    const worker = await pool.start({
      sql, pollIntervalMs: 100, rescueIntervalMs: 60_000, lockProbeIntervalMs: 200, fenceAfterMs: 1500,
      handlers: { job: recordingHandler(executions, never) },
    });
    const fences: unknown[] = [];
    worker.on("worker:fenced", (e) => fences.push(e));
    await queue.enqueue({ kind: "job", payload: {} });
    await waitFor("the first job to run", () => executions.length === 1);
    // The event loop starved for longer than the fence: nothing proved the lock meanwhile.
    const until = performance.now() + 2000;
    while (performance.now() < until) { /* busy */ }
    await waitFor("the first fence", () => fences.length === 1);
    expect(executions[0]!.how).toBe("lost_ownership");
    // The lock was fine all along: proven again, the job goes back and runs again here.
    await waitFor("the job to run again", () => executions.length === 2, { timeoutMs: 10_000 });
    await proxy.cut();
    await waitFor("a second fence for the job now running", () => fences.length === 2, { timeoutMs: 10_000 });
    expect(executions[1]!.how).toBe("lost_ownership");
  });
});
