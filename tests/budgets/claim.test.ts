// A queue's daily budget against several worker processes: once the queue's
// recorded Claude cost for the day reaches its budget, none of them claims
// its Claude jobs (by either claim query), while another queue's Claude jobs
// and the queue's own other kinds run; on the queue's next day they are
// claimed again. The next day comes by moving the recorded spend to
// yesterday (the claim reads the database's now(); nothing sleeps until
// midnight); the zone's days are tested on fixed timestamps in spend.test.ts.

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createRunsTable, killAll, startWorkerProcess, type WorkerProcess } from "../helpers/worker-process.ts";
import { REPO } from "../helpers/engine.ts";
import { waitFor } from "../helpers/wait.ts";
import { Budgets } from "../../src/queue/budgets.ts";

const FIXTURE = join(REPO, "tests/budgets/fixtures/cost-worker.ts");

let db: TestDatabase;
let budgets: Budgets;
const children: WorkerProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  await createRunsTable(db.sql);
  budgets = new Budgets(db.sql);
});
afterEach(async () => {
  await killAll(children);
  await db.sql`TRUNCATE claude_jobs, test_runs, claude_job_queues, claude_job_spend`;
});
afterAll(async () => {
  await db.drop();
});

async function startWorker(env: Record<string, string>): Promise<void> {
  children.push(await startWorkerProcess(db.url, env, { script: FIXTURE }));
}

/** Inserts queued jobs directly (the Claude kind's enqueue validation wants a real cwd and prompt; these never run a CLI). */
async function insert(queue: string, kind: string, n: number, payload: Record<string, unknown> = {}): Promise<void> {
  await db.sql`INSERT INTO claude_jobs (kind, queue, payload)
               SELECT ${kind}, ${queue}, ${db.sql.json(payload as never)} FROM generate_series(1, ${n})`;
}

const counts = async (queue: string, kind: string) => {
  const rows = await db.sql`SELECT status, count(*)::int AS n FROM claude_jobs WHERE queue = ${queue} AND kind = ${kind} GROUP BY status`;
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
};
const runsOf = async (queue: string, kind: string) =>
  (await db.sql`SELECT count(*)::int AS n FROM test_runs r JOIN claude_jobs j ON j.id = r.job_id
                WHERE j.queue = ${queue} AND j.kind = ${kind}`)[0]!.n as number;

describe("a queue over its daily budget, with three worker processes", () => {
  test("its Claude jobs are not claimed; another queue's are, and its other kinds run; the next day they run", async () => {
    await budgets.set("capped", { dailyUsd: 1 });
    // The first job spends exactly the budget: reaching it is enough.
    // Both claim queries: over every queue, and over listed queues (one only for Claude jobs, which leaves the queue out whole).
    await startWorker({ QUEUES: "*", CONCURRENCY: "2" });
    await startWorker({ QUEUES: "capped,open", CONCURRENCY: "2" });
    await startWorker({ QUEUES: "capped,open", KINDS: "claude", CONCURRENCY: "2" });
    await insert("capped", "claude", 1, { cost: 1 });
    await waitFor("the first job to finish", async () => (await counts("capped", "claude")).finished === 1);
    const [spent] = await budgets.list();
    expect(spent).toMatchObject({ queue: "capped", spentTodayUsd: 1, overBudget: true, reason: "over budget until 00:00 UTC" });

    // Older than the other queue's jobs: a claim that ignored the budget would take them first.
    await insert("capped", "claude", 40, { cost: 0.25, sleepMs: 100 });
    await Bun.sleep(5);
    await insert("open", "claude", 40, { cost: 0.25, sleepMs: 20 });
    await insert("capped", "noop", 10);
    await waitFor("the open queue and the capped queue's other kind to drain", async () =>
      (await counts("open", "claude")).finished === 40 && (await counts("capped", "noop")).finished === 10, { timeoutMs: 20_000 });
    // Many claim rounds of every worker happened (50 jobs, 3 x 2 slots, polling every 100 ms): none took a capped Claude job.
    expect(await counts("capped", "claude")).toEqual({ finished: 1, queued: 40 });
    expect(await runsOf("capped", "claude")).toBe(1);
    const pids = await db.sql`SELECT DISTINCT pid FROM test_runs r JOIN claude_jobs j ON j.id = r.job_id WHERE j.queue = 'open'`;
    expect(pids.length).toBeGreaterThan(1);

    // The next day: today's recorded spend becomes yesterday's; the budget is whole again.
    await db.sql`UPDATE claude_job_spend SET day = day - 1 WHERE queue = 'capped'`;
    expect((await budgets.get("capped"))!.overBudget).toBe(false);
    await db.sql`SELECT pg_notify('claude_jobs', 'capped')`;
    // Four more jobs of $0.25 reach the $1 again: the rest waits for the day after.
    await waitFor("the day's budget to be spent again", async () => (await budgets.get("capped"))!.overBudget, { timeoutMs: 20_000 });
    await waitFor("the runs in flight to end", async () => !(await counts("capped", "claude")).running);
    const settled = await counts("capped", "claude");
    // Jobs claimed before the 4th outcome was written ran too (the overshoot: at most the
    // 6 slots in flight and the 6 outcomes not yet written, 3 written before), never all 40.
    expect(settled.finished!).toBeGreaterThanOrEqual(1 + 4);
    expect(settled.finished!).toBeLessThanOrEqual(1 + 3 + 6 + 6);
    expect(settled.queued).toBe(41 - settled.finished!);
    const [today] = await db.sql`SELECT cost_usd::text AS cost, attempts::int FROM claude_job_spend WHERE queue = 'capped' AND day = (now() AT TIME ZONE 'UTC')::date`;
    // What was spent today is exactly what the jobs that ran today cost.
    expect(Number(today!.cost)).toBe((settled.finished! - 1) * 0.25);
    expect(today!.attempts).toBe(settled.finished! - 1);

    // Clearing the budget lets the rest run at once.
    expect((await budgets.clear("capped")).changed).toBe(true);
    await waitFor("the capped queue to drain", async () => (await counts("capped", "claude")).finished === 41, { timeoutMs: 20_000 });
  }, 60_000);

  test("a budget on one queue holds back no other: with no budget reached, both queues run", async () => {
    await budgets.set("capped", { dailyUsd: 100, timezone: "Europe/Paris" });
    await insert("capped", "claude", 10, { cost: 0.5 });
    await insert("open", "claude", 10, { cost: 0.5 });
    await startWorker({ QUEUES: "*" });
    await startWorker({ QUEUES: "open,capped" });
    await waitFor("both queues to drain", async () =>
      (await counts("capped", "claude")).finished === 10 && (await counts("open", "claude")).finished === 10, { timeoutMs: 20_000 });
    const capped = (await budgets.get("capped"))!;
    expect(capped).toMatchObject({ spentTodayUsd: 5, overBudget: false, reason: null, timezone: "Europe/Paris" });
  }, 30_000);
});
