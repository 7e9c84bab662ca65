// Spend accounting: what each Claude attempt cost is added to its queue's day
// in the transaction that writes the attempt's outcome, exactly, with many
// worker processes completing at once; an attempt that wrote no result of its
// own adds an attempt but never the previous attempt's cost again; other
// kinds add nothing; the sums never go down. The queue's day in its zone is
// tested on fixed timestamps (the trigger and the claim use now(), whose day
// these functions compute).

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createRunsTable, killAll, startWorkerProcess, type WorkerProcess } from "../helpers/worker-process.ts";
import { REPO } from "../helpers/engine.ts";
import { waitFor } from "../helpers/wait.ts";
import { jobCompleteMany, type Completion } from "../../src/db/jobs.ts";
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

const spendRow = async (queue: string) =>
  (await db.sql`SELECT cost_usd::text AS cost, input_tokens::int AS input, output_tokens::int AS output, turns::int, attempts::int
                FROM claude_job_spend WHERE queue = ${queue}`)[0];

/** A running attempt of a job, owned by worker 999, whose previous attempt may have left a result. */
async function running(queue: string, kind = "claude", result: Record<string, unknown> | null = null): Promise<string> {
  const [row] = await db.sql`INSERT INTO claude_jobs (kind, queue, status, worker_id, started_at, attempts, result)
                             VALUES (${kind}, ${queue}, 'running', 999, now(), 1, ${result ? db.sql.json(result as never) : null})
                             RETURNING id`;
  return row!.id as string;
}
const done = (id: string, status: Completion["status"], result: Record<string, unknown> | null): Completion =>
  ({ id, attempt: 1, status, error: status === "finished" ? null : "failed", result, retryInMs: 0, refund: false });

describe("spend under concurrent completions", () => {
  test("three worker processes completing 90 Claude jobs (30 of them twice) add up exactly", async () => {
    // $0.01 once, and $0.03 per attempt twice: a float sum of these would not be exact; numeric is.
    await db.sql`INSERT INTO claude_jobs (kind, queue, payload)
                 SELECT 'claude', 'busy', jsonb_build_object('cost', 0.01, 'turns', 3, 'input', 100, 'output', 7) FROM generate_series(1, 60)`;
    await db.sql`INSERT INTO claude_jobs (kind, queue, payload)
                 SELECT 'claude', 'busy', jsonb_build_object('cost', 0.03, 'turns', 2, 'input', 50, 'output', 5, 'retryOnce', true) FROM generate_series(1, 30)`;
    for (let i = 0; i < 3; i++) await startWorker({ CONCURRENCY: "5" });
    await waitFor("all 90 to finish", async () =>
      (await db.sql`SELECT count(*)::int AS n FROM claude_jobs WHERE status = 'finished'`)[0]!.n === 90, { timeoutMs: 30_000 });
    expect(await spendRow("busy")).toEqual({
      cost: "2.40", // 60 x 0.01 + 30 x 2 x 0.03
      input: 60 * 100 + 60 * 50, output: 60 * 7 + 60 * 5, turns: 60 * 3 + 60 * 2, attempts: 120,
    });
    const pids = await db.sql`SELECT DISTINCT pid FROM test_runs`;
    expect(pids.length).toBeGreaterThan(1);
    const [perDay] = await budgets.spend();
    expect(perDay).toMatchObject({ queue: "busy", costUsd: 2.4, attempts: 120, turns: 300 });
  }, 60_000);
});

describe("what an attempt adds", () => {
  test("its own result's cost, tokens and turns, once, in the completion's transaction", async () => {
    const id = await running("q");
    const result = { totalCostUsd: 0.125, numTurns: 4, usage: { input_tokens: 10, output_tokens: 20, cache_read_input_tokens: 30, cache_creation_input_tokens: 40 } };
    // A completion rolled back records nothing: the spend is there exactly when the outcome is.
    await db.sql.begin(async (tx) => {
      await jobCompleteMany(tx, 999, [done(id, "finished", result)]);
      expect((await tx`SELECT count(*)::int AS n FROM claude_job_spend`)[0]!.n).toBe(1);
      await tx`SELECT 1/0`.catch(() => {});
    }).catch(() => {});
    expect(await spendRow("q")).toBeUndefined();
    expect(await jobCompleteMany(db.sql, 999, [done(id, "finished", result)])).toEqual(new Set([id]));
    const [row] = await db.sql`SELECT cost_usd::text AS cost, cache_read_tokens::int AS cr, cache_creation_tokens::int AS cc FROM claude_job_spend`;
    expect(row).toEqual({ cost: "0.125", cr: 30, cc: 40 });
    // A second, fenced-off write of the same outcome changes no row and adds nothing.
    expect(await jobCompleteMany(db.sql, 999, [done(id, "finished", result)])).toEqual(new Set());
    expect(await spendRow("q")).toMatchObject({ cost: "0.125", attempts: 1, turns: 4 });
  });

  test("an attempt that wrote no result counts as an attempt, never the previous attempt's cost again", async () => {
    const id = await running("q", "claude", { totalCostUsd: 0.5, numTurns: 9 });
    await jobCompleteMany(db.sql, 999, [done(id, "failed", null)]);
    expect(await spendRow("q")).toEqual({ cost: "0", input: 0, output: 0, turns: 0, attempts: 1 });
    // Rescued from a dead worker: back to the queue with its old result, no cost.
    const rescued = await running("q", "claude", { totalCostUsd: 0.5 });
    await db.sql`UPDATE claude_jobs SET status = 'queued', worker_id = NULL, concurrency_slot = NULL WHERE id = ${rescued}`;
    expect(await spendRow("q")).toMatchObject({ cost: "0", attempts: 2 });
  });

  test("other kinds add nothing; a result's bad numbers count as 0 and fail nothing", async () => {
    const other = await running("q", "noop");
    await jobCompleteMany(db.sql, 999, [done(other, "finished", { totalCostUsd: 3 })]);
    expect(await spendRow("q")).toBeUndefined();
    const ids = [await running("q"), await running("q"), await running("q")];
    const bad = [{ totalCostUsd: "5", numTurns: -1 }, { totalCostUsd: 1e300, usage: { input_tokens: "many" } }, { totalCostUsd: 0.2, usage: null }];
    expect((await jobCompleteMany(db.sql, 999, ids.map((id, i) => done(id, "finished", bad[i]!)))).size).toBe(3);
    expect(await spendRow("q")).toEqual({ cost: "0.2", input: 0, output: 0, turns: 0, attempts: 3 });
  });

  test("the sums only grow: deleting jobs, TRUNCATE and clearing a budget take nothing away", async () => {
    await budgets.set("q", { dailyUsd: 5 });
    const id = await running("q");
    await jobCompleteMany(db.sql, 999, [done(id, "finished", { totalCostUsd: 1.5 })]);
    await db.sql`DELETE FROM claude_jobs`;
    await db.sql`TRUNCATE claude_jobs`;
    await budgets.clear("q");
    expect(await budgets.totals()).toEqual([
      { queue: "q", costUsd: 1.5, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0, turns: 0, attempts: 1 },
    ]);
  });
});

describe("the queue's day, in its zone (fixed timestamps)", () => {
  const dayOf = async (at: string, zone: string | null) =>
    (await db.sql`SELECT claude_jobs_queue_day(${at}::timestamptz, ${zone})::text AS d`)[0]!.d as string;
  const endOf = async (day: string, zone: string | null) =>
    ((await db.sql`SELECT claude_jobs_queue_day_end(${day}::date, ${zone}) AS e`)[0]!.e as Date).toISOString();

  test("UTC by default; a zone moves the day's start", async () => {
    expect(await dayOf("2026-12-01T23:30:00Z", null)).toBe("2026-12-01");
    expect(await dayOf("2026-12-01T23:30:00Z", "UTC")).toBe("2026-12-01");
    expect(await dayOf("2026-12-01T23:30:00Z", "Europe/Paris")).toBe("2026-12-02"); // 00:30 in Paris
    expect(await dayOf("2026-12-01T22:59:59Z", "Europe/Paris")).toBe("2026-12-01");
    expect(await dayOf("2026-12-02T04:30:00Z", "America/New_York")).toBe("2026-12-01"); // 23:30 the day before
  });

  test("a day ends at the zone's next midnight, DST days included", async () => {
    expect(await endOf("2026-12-01", null)).toBe("2026-12-02T00:00:00.000Z");
    expect(await endOf("2026-12-01", "Europe/Paris")).toBe("2026-12-01T23:00:00.000Z");
    expect(await endOf("2026-03-29", "Europe/Paris")).toBe("2026-03-29T22:00:00.000Z"); // summer time began that night: a 23-hour day
    expect(await endOf("2026-10-25", "Europe/Paris")).toBe("2026-10-25T23:00:00.000Z"); // and ended: a 25-hour day
    expect(await endOf("2026-11-01", "America/New_York")).toBe("2026-11-02T05:00:00.000Z");
  });

  test("spend is recorded on the queue's day, and its budget is tested against that day", async () => {
    await budgets.set("paris", { dailyUsd: 1, timezone: "Europe/Paris" });
    const id = await running("paris");
    await jobCompleteMany(db.sql, 999, [done(id, "finished", { totalCostUsd: 1 })]);
    const [{ day, expected }] = await db.sql`SELECT s.day::text AS day, claude_jobs_queue_day(now(), 'Europe/Paris')::text AS expected
                                               FROM claude_job_spend s WHERE queue = 'paris'` as unknown as [{ day: string; expected: string }];
    expect(day).toBe(expected);
    const b = (await budgets.get("paris"))!;
    expect(b).toMatchObject({ today: expected, overBudget: true, reason: "over budget until 00:00 Europe/Paris" });
    expect(b.dayEndsAt.toISOString()).toBe(await endOf(expected, "Europe/Paris"));
    expect((await db.sql`SELECT claude_jobs_over_budget() AS o`)[0]!.o).toEqual(["paris"]);
    // Yesterday's spend does not count today.
    await db.sql`UPDATE claude_job_spend SET day = day - 1`;
    expect((await db.sql`SELECT claude_jobs_over_budget() AS o`)[0]!.o).toEqual([]);
  });
});
