// Invariant 2: no job is lost. A worker process killed with SIGKILL mid-job
// loses its advisory lock with its session; a live worker finds its running
// jobs and puts them back (or fails them, or ends them cancelled), with the
// death recorded in errors[]. The live workers list drops the dead worker.

import { afterAll, afterEach, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { Queue } from "../../src/queue/client.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { jobRow, nextEvent, WorkerPool } from "../helpers/engine.ts";
import { waitFor } from "../helpers/wait.ts";
import { createRunsTable, killAll, startWorkerProcess, type WorkerProcess } from "../helpers/worker-process.ts";

// Generous: the suite shares a small machine; waits inside tests have their own deadlines.
setDefaultTimeout(30_000);

let db: TestDatabase;
let queue: Queue;
const pool = new WorkerPool();
const children: WorkerProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  queue = new Queue(db.sql);
  await createRunsTable(db.sql);
});
afterEach(async () => {
  await pool.stopAll();
  await killAll(children);
});
afterAll(() => db.drop());

/** A worker process that has started `id` (a `hang` job in queue `doomed`), then is killed with SIGKILL. */
async function killMidJob(id: string): Promise<WorkerProcess> {
  const child = await startWorkerProcess(db.url, { QUEUES: "doomed" });
  children.push(child);
  await waitFor("the job to start in the child", async () => (await jobRow(db.sql, id)).status === "running");
  expect((await jobRow(db.sql, id)).workerId).toBe(child.workerId);
  child.proc.kill("SIGKILL");
  await child.exited;
  return child;
}

const RESCUE_MS = 300;

describe("rescue of a dead worker's jobs", () => {
  test("a job of a worker killed mid-run goes back to the queue within the rescue interval, then runs", async () => {
    const id = await queue.enqueue({ kind: "hang", queue: "doomed", payload: {}, maxAttempts: 3 });
    // A live worker on another queue: it only rescues, it cannot run the job.
    const rescuer = await pool.start({ sql: db.sql, handlers: { hang: async () => {} }, queues: ["elsewhere"], rescueIntervalMs: RESCUE_MS });
    const rescued = nextEvent<{ id: string; status: string }[]>(rescuer, "job:rescued", (jobs) => jobs.some((j) => j.id === id));
    const child = await killMidJob(id);
    const killedAt = Date.now();
    expect((await rescued).find((j) => j.id === id)!.status).toBe("queued");
    // Within a few rescue intervals (not a lease: nothing to wait out). Loose, for a loaded machine.
    expect(Date.now() - killedAt).toBeLessThan(RESCUE_MS * 1.2 + 4000);

    const back = await jobRow(db.sql, id);
    expect(back.status).toBe("queued");
    expect(back.attempts).toBe(1);
    expect(back.errors).toHaveLength(1);
    expect(back.errors[0]!.attempt).toBe(1);
    expect(back.errors[0]!.message).toContain(`worker ${child.workerId} died`);

    // A worker that serves the queue now runs it: the second attempt.
    const runner = await pool.start({ sql: db.sql, handlers: { hang: async () => ({ ok: true }) }, queues: ["doomed"] });
    await waitFor("the rescued job to finish", async () => (await jobRow(db.sql, id)).status === "finished");
    const done = await jobRow(db.sql, id);
    expect(done.attempts).toBe(2);
    expect(done.workerId).toBe(runner.id);
    expect(done.result).toEqual({ ok: true });
  });

  test("a job whose attempts are used up ends failed, with the death as its error", async () => {
    const id = await queue.enqueue({ kind: "hang", queue: "doomed", payload: {}, maxAttempts: 1 });
    const child = await killMidJob(id);
    await pool.start({ sql: db.sql, handlers: { hang: async () => {} }, queues: ["doomed"] });
    await waitFor("the job to fail", async () => (await jobRow(db.sql, id)).status === "failed");
    const job = await jobRow(db.sql, id);
    expect(job.attempts).toBe(1);
    expect(job.finishedAt).not.toBeNull();
    expect(job.error).toContain(`worker ${child.workerId} died`);
    expect(job.errors.map((e) => e.attempt)).toEqual([1]);
  });

  test("an orphan whose cancel was requested ends cancelled, not retried", async () => {
    const id = await queue.enqueue({ kind: "hang", queue: "doomed", payload: {}, maxAttempts: 3 });
    await killMidJob(id);
    // Nobody has rescued it yet: the cancel is a request on a running job.
    expect((await queue.cancel(id)).status).toBe("running");
    await pool.start({ sql: db.sql, handlers: { hang: async () => {} }, queues: ["doomed"] });
    await waitFor("the job to end cancelled", async () => (await jobRow(db.sql, id)).status === "cancelled");
    const job = await jobRow(db.sql, id);
    expect(job.attempts).toBe(1);
    expect(job.finishedAt).not.toBeNull();
  });

  test("the live workers list shows a worker process while it lives and drops it once killed", async () => {
    const id = await queue.enqueue({ kind: "hang", queue: "doomed", payload: {}, maxAttempts: 3 });
    const child = await startWorkerProcess(db.url, { QUEUES: "doomed" });
    children.push(child);
    await waitFor("the job to start", async () => (await jobRow(db.sql, id)).status === "running");
    const live = await queue.workers();
    const entry = live.find((w) => w.id === child.workerId);
    expect(entry).toMatchObject({ pid: child.pid, queues: ["doomed"], runningJobIds: [id] });
    child.proc.kill("SIGKILL");
    await child.exited;
    await waitFor("the dead worker to leave the list", async () =>
      !(await queue.workers()).some((w) => w.id === child.workerId));
  });

  test("a live worker with the same id in another database does not keep a dead worker's job from rescue", async () => {
    const other = await createTestDatabase();
    try {
      // Worker ids are per database: the other database's first worker has the id a dead one had here.
      const foreign = await pool.start({ sql: other.sql, handlers: { none: async () => {} } });
      const id = await queue.enqueue({ kind: "hang", queue: "doomed", payload: {} });
      await db.sql`UPDATE claude_jobs SET status = 'running', worker_id = ${foreign.id}, attempts = 1, started_at = now()
                   WHERE id = ${id}`;
      expect((await queue.workers()).map((w) => w.id)).not.toContain(foreign.id);
      await pool.start({ sql: db.sql, handlers: { none: async () => {} }, queues: ["elsewhere"] });
      await waitFor("the orphan to be rescued", async () => (await jobRow(db.sql, id)).status === "queued", { timeoutMs: 5000 });
    } finally {
      await pool.stopAll();
      await other.drop();
    }
  });
});
