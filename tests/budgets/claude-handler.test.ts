// The real Claude handler against the fake CLI (which reports
// total_cost_usd 0.0170877 and its usage per run): what the handler stores
// as the job's result is what the spend records, to the last digit, and the
// queue's budget stops the next Claude job once reached.

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { Queue } from "../../src/queue/client.ts";
import { Budgets } from "../../src/queue/budgets.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { ClaudeWorkers, tempDir, waitForJob } from "../claude/helpers.ts";

let db: TestDatabase;
let queue: Queue;
let budgets: Budgets;
const workers = new ClaudeWorkers();
const cwd = tempDir("claude-budget-cwd-");

beforeAll(async () => {
  db = await createTestDatabase();
  queue = new Queue(db.sql);
  budgets = new Budgets(db.sql);
});
afterEach(() => workers.stopAll());
afterAll(() => db.drop());

describe("a Claude job's cost, through the handler", () => {
  test("is recorded exactly as its result says, and the budget it reaches holds the next job", async () => {
    await budgets.set("metered", { dailyUsd: 0.03 });
    await workers.start(db.sql, { queue: "metered", concurrency: 1 });
    const first = await waitForJob(queue, await queue.enqueue({ queue: "metered", payload: { prompt: "one", cwd } }));
    expect(first.result).toMatchObject({ totalCostUsd: 0.0170877 });
    expect((await budgets.get("metered"))!).toMatchObject({ spentTodayUsd: 0.0170877, overBudget: false });
    await waitForJob(queue, await queue.enqueue({ queue: "metered", payload: { prompt: "two", cwd } }));
    const [row] = await db.sql`SELECT cost_usd::text AS cost, input_tokens::int AS input, output_tokens::int AS output,
                                      cache_read_tokens::int AS cache_read, cache_creation_tokens::int AS cache_creation, turns::int, attempts::int
                               FROM claude_job_spend WHERE queue = 'metered'`;
    expect(row).toEqual({ cost: "0.0341754", input: 42, output: 508, cache_read: 43474, cache_creation: 13026, turns: 4, attempts: 2 });
    expect((await budgets.get("metered"))!.reason).toBe("over budget until 00:00 UTC");

    // The third waits: the worker claims on the enqueue's NOTIFY and polls every 100 ms; ten polls take nothing.
    const third = await queue.enqueue({ queue: "metered", payload: { prompt: "three", cwd } });
    await Bun.sleep(1000);
    expect((await queue.get(third)).status).toBe("queued");
    await budgets.clear("metered");
    expect((await waitForJob(queue, third)).status).toBe("finished");
  });
});
