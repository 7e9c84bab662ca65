// Pausing a queue against several worker processes: a paused queue is
// claimed by none of them while another queue keeps running; a job already
// running when the pause comes finishes; resume lets its jobs run; and the
// pause is in the database, so restarted workers honour it too.

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createRunsTable, killAll, startWorkerProcess, type WorkerProcess } from "../helpers/worker-process.ts";
import { waitFor } from "../helpers/wait.ts";
import { Queue } from "../../src/queue/client.ts";
import { Queues } from "../../src/queue/queues.ts";
import { WorkerPool } from "../helpers/engine.ts";

let db: TestDatabase;
let queue: Queue;
let queues: Queues;
const children: WorkerProcess[] = [];
const pool = new WorkerPool();

beforeAll(async () => {
  db = await createTestDatabase();
  await createRunsTable(db.sql);
  queue = new Queue(db.sql);
  queues = new Queues(db.sql);
});
afterEach(async () => {
  await killAll(children);
  await pool.stopAll();
  await db.sql`TRUNCATE claude_jobs, test_runs, claude_job_queues`;
});
afterAll(async () => {
  await db.drop();
});

/** `queues`: what each worker serves (`*`: the claim over all queues; a list: the claim per listed queue). */
const startWorkers = async (n: number, queues: string[] = ["*"]) => {
  for (let i = 0; i < n; i++) children.push(await startWorkerProcess(db.url, { CONCURRENCY: "4", QUEUES: queues[i % queues.length]! }));
};
const enqueue = (queueName: string, n: number, sleepMs = 0) =>
  queue.enqueueMany(Array.from({ length: n }, () => ({ kind: "record", queue: queueName, payload: { sleepMs } })));
const runsIn = async (queueName: string) => {
  const [row] = await db.sql`SELECT count(*)::int AS n FROM test_runs r JOIN claude_jobs j ON j.id = r.job_id WHERE j.queue = ${queueName}`;
  return row!.n as number;
};
const statusCounts = async (queueName: string) => {
  const rows = await db.sql`SELECT status, count(*)::int AS n FROM claude_jobs WHERE queue = ${queueName} GROUP BY status`;
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
};

describe("a paused queue with three worker processes", () => {
  test("no worker claims it while another queue drains; resume runs its jobs", async () => {
    await queues.pause("slow", { by: "test" });
    // The paused queue's jobs are older, so any worker that ignored the pause would take them first.
    const paused = await enqueue("slow", 20);
    await Bun.sleep(5); // run_at strictly later for the other queue's jobs
    await enqueue("fast", 60);
    await startWorkers(3, ["*", "slow,fast"]);
    await waitFor("the fast queue to drain", async () => (await statusCounts("fast")).finished === 60, { timeoutMs: 20_000 });
    // Several claim rounds of every worker happened (60 jobs, 3 x 4 slots): none touched the paused queue.
    expect(await runsIn("slow")).toBe(0);
    expect(await statusCounts("slow")).toEqual({ queued: 20 });
    const pids = await db.sql`SELECT DISTINCT pid FROM test_runs`;
    expect(pids.length).toBeGreaterThan(1);

    const resumed = await queues.resume("slow");
    expect(resumed.changed).toBe(true);
    await waitFor("the resumed queue to drain", async () => (await statusCounts("slow")).finished === 20, { timeoutMs: 20_000 });
    const [runs] = await db.sql`SELECT count(*)::int AS n, count(DISTINCT job_id)::int AS jobs FROM test_runs WHERE job_id = ANY(${paused})`;
    expect(runs).toEqual({ n: 20, jobs: 20 });
  }, 60_000);

  test("a job running when the queue is paused finishes; the rest of the queue waits", async () => {
    await startWorkers(2);
    const [first] = await enqueue("q", 1, 1500);
    await waitFor("the first job to start", async () => (await runsIn("q")) === 1);
    await queues.pause("q", { by: "test" });
    await enqueue("q", 10);
    await waitFor("the running job to finish", async () => (await statusCounts("q")).finished === 1, { timeoutMs: 10_000 });
    const [run] = await db.sql`SELECT ended_at IS NOT NULL AS ended FROM test_runs WHERE job_id = ${first!}`;
    expect(run!.ended).toBe(true);
    // Workers kept polling (200 ms) while it ran: still only the one run.
    await enqueue("other", 8);
    await waitFor("another queue to drain", async () => (await statusCounts("other")).finished === 8);
    expect(await runsIn("q")).toBe(1);
    expect(await statusCounts("q")).toEqual({ finished: 1, queued: 10 });
  }, 60_000);

  test("the pause survives the workers: killed and restarted ones honour it, then resume runs the jobs", async () => {
    await queues.pause("kept", { by: "test" });
    await startWorkers(2);
    await enqueue("kept", 10);
    await killAll(children);
    await startWorkers(2);
    await enqueue("other", 8);
    await waitFor("another queue to drain", async () => (await statusCounts("other")).finished === 8);
    expect(await runsIn("kept")).toBe(0);
    expect((await queues.get("kept")).paused).toBe(true);
    await queues.resume("kept");
    await waitFor("the resumed queue to drain", async () => (await statusCounts("kept")).finished === 10, { timeoutMs: 20_000 });
  }, 60_000);
});

describe("resume wakes idle workers", () => {
  test("a worker that polls once a minute starts the resumed queue's job at once", async () => {
    await queues.pause("woken", { by: "test" });
    const ran: string[] = [];
    await pool.start({ sql: db.sql, pollIntervalMs: 60_000, handlers: { record: async ({ job }) => { ran.push(job.id); } } });
    const [id] = await enqueue("woken", 1);
    // The insert's NOTIFY woke it, and it claimed nothing: the queue is paused. (A margin for
    // that wake-up to be over, so that only the resume's NOTIFY can start the job below:
    // without it, this test fails after 5 s.)
    await Bun.sleep(300);
    expect(ran).toEqual([]);
    const resumedAt = performance.now();
    await queues.resume("woken");
    await waitFor("the job to start", () => ran.includes(id!), { timeoutMs: 5000 });
    expect(performance.now() - resumedAt).toBeLessThan(5000); // not the 60 s poll
  });

  test("it notifies claude_jobs with the queue's name, once, and only when the queue was paused", async () => {
    const heard: string[] = [];
    const listener = await db.sql.listen("claude_jobs", (payload) => heard.push(payload));
    try {
      await queues.pause("wake", { by: "test" });
      await queues.resume("wake");
      await waitFor("the notification", () => heard.includes("wake"));
      await queues.resume("wake"); // not paused: nothing to wake anyone for
      await queues.resume("unknown-queue");
      await db.sql`SELECT pg_notify('claude_jobs', 'marker')`;
      await waitFor("the marker", () => heard.includes("marker"));
      expect(heard).toEqual(["wake", "marker"]);
    } finally {
      await listener.unlisten();
    }
  });
});
