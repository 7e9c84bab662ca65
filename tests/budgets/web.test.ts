// Budgets and spend over HTTP, through the app: PUT/DELETE
// /api/queues/:name/budget behind the same token and cross-site rules as
// every mutation, GET /api/spend; the /metrics counters (they only grow);
// the overview's chart and notices, the queues page, the job page's cost
// against max_budget_usd; and queue names escaped in the chart.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { activeContent, insertJob, webFixture, type WebFixture } from "../web/helpers.ts";
import { jobCompleteMany } from "../../src/db/jobs.ts";
import { BudgetNotices, SpendCard, SpendChart, lastDays } from "../../src/web/views/spend.tsx";
import type { QueueBudget, SpendRow } from "../../src/queue/budgets.ts";

let f: WebFixture;
beforeAll(async () => {
  f = await webFixture();
});
beforeEach(async () => {
  await f.db.sql`TRUNCATE claude_jobs, claude_job_queues, claude_job_spend`;
});
afterAll(async () => {
  await f.db.drop();
});

/** A Claude attempt that ends with this cost, written as a worker writes it. */
async function spend(queue: string, result: Record<string, unknown>): Promise<void> {
  const id = await insertJob(f.db, { status: "running", queue, workerId: 999 });
  expect((await jobCompleteMany(f.db.sql, 999, [{ id, attempt: 1, status: "finished", error: null, result, retryInMs: 0, refund: false }])).size).toBe(1);
}

describe("the budget API", () => {
  test("PUT sets a budget (200, with today's spend), DELETE clears it; GET /api/spend", async () => {
    const put = await f.request("PUT", "/api/queues/nightly/budget", { json: { daily_usd: 2.5, timezone: "Europe/Paris" } });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ queue: "nightly", dailyUsd: 2.5, timezone: "Europe/Paris", spentTodayUsd: 0, overBudget: false, reason: null });
    await spend("nightly", { totalCostUsd: 3, numTurns: 2, usage: { input_tokens: 5, output_tokens: 6 } });
    const got = await (await f.request("GET", "/api/spend")).json() as { days: SpendRow[]; budgets: QueueBudget[] };
    expect(got.days).toMatchObject([{ queue: "nightly", costUsd: 3, inputTokens: 5, outputTokens: 6, turns: 2, attempts: 1 }]);
    expect(got.budgets).toMatchObject([{ queue: "nightly", overBudget: true, reason: "over budget until 00:00 Europe/Paris" }]);
    expect((await f.request("GET", "/api/spend?days=abc")).status).toBe(422);
    const del = await f.request("DELETE", "/api/queues/nightly/budget");
    expect(del.status).toBe(200);
    expect(await del.json()).toMatchObject({ changed: true, budget: { dailyUsd: null, timezone: "Europe/Paris", overBudget: false } });
    expect(await (await f.request("DELETE", "/api/queues/nightly/budget")).json()).toMatchObject({ changed: false });
  });

  test("bad input is a 422 naming the field; no token 401, cross-site 403; nothing written", async () => {
    const cases: [unknown, string][] = [
      [{ daily_usd: 0 }, "daily_usd"], [{ daily_usd: "20" }, "daily_usd"], [{ daily_usd: 20, timezone: "Mars/Base" }, "timezone"],
      [{ daily_usd: 20, extra: 1 }, "extra"], [{ daily_usd: 0.0000001 }, "daily_usd"],
    ];
    for (const [json, field] of cases) {
      const r = await f.request("PUT", "/api/queues/nightly/budget", { json });
      expect(r.status).toBe(422);
      expect(JSON.stringify(await r.json())).toContain(`${field}:`);
    }
    expect((await f.request("PUT", "/api/queues/Bad%20Name/budget", { json: { daily_usd: 1 } })).status).toBe(422);
    expect((await f.request("PUT", "/api/queues/nightly/budget", { json: { daily_usd: 1 }, auth: false })).status).toBe(401);
    expect((await f.request("DELETE", "/api/queues/nightly/budget", { auth: false })).status).toBe(401);
    const crossSite = { authorization: `Bearer ${f.token}`, origin: "https://evil.example" };
    expect((await f.request("PUT", "/api/queues/nightly/budget", { json: { daily_usd: 1 }, headers: crossSite })).status).toBe(403);
    expect((await f.request("GET", "/api/spend", { auth: false })).status).toBe(401);
    expect((await f.db.sql`SELECT * FROM claude_job_queues`).length).toBe(0);
  });
});

/** The value of one series in the exposition text. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("/metrics", () => {
  test("cost, tokens, turns and attempts per queue are counters: they grow, and deleting jobs takes nothing away", async () => {
    await f.request("PUT", "/api/queues/a/budget", { json: { daily_usd: 1 } });
    await spend("a", { totalCostUsd: 0.75, numTurns: 3, usage: { input_tokens: 100, output_tokens: 10, cache_read_input_tokens: 7 } });
    await spend("b", { totalCostUsd: 0.5, numTurns: 1 });
    const first = await (await f.request("GET", "/metrics")).text();
    expect(first).toContain("# TYPE claude_jobs_claude_cost_usd_total counter");
    expect(sample(first, 'claude_jobs_claude_cost_usd_total{queue="a"}')).toBe(0.75);
    expect(sample(first, 'claude_jobs_claude_cost_usd_total{queue="b"}')).toBe(0.5);
    expect(sample(first, 'claude_jobs_claude_tokens_total{queue="a",type="input"}')).toBe(100);
    expect(sample(first, 'claude_jobs_claude_tokens_total{queue="a",type="output"}')).toBe(10);
    expect(sample(first, 'claude_jobs_claude_tokens_total{queue="a",type="cache_read"}')).toBe(7);
    expect(sample(first, 'claude_jobs_claude_turns_total{queue="a"}')).toBe(3);
    expect(sample(first, 'claude_jobs_claude_attempts_total{queue="a"}')).toBe(1);
    expect(sample(first, 'claude_jobs_queue_over_budget{queue="a"}')).toBe(0);

    await f.db.sql`DELETE FROM claude_jobs`;
    await f.db.sql`TRUNCATE claude_jobs`;
    await spend("a", { totalCostUsd: 0.25, numTurns: 1 });
    const second = await (await f.request("GET", "/metrics")).text();
    expect(sample(second, 'claude_jobs_claude_cost_usd_total{queue="a"}')).toBe(1);
    expect(sample(second, 'claude_jobs_claude_cost_usd_total{queue="b"}')).toBe(0.5);
    expect(sample(second, 'claude_jobs_claude_attempts_total{queue="a"}')).toBe(2);
    expect(sample(second, 'claude_jobs_queue_over_budget{queue="a"}')).toBe(1);
  });
});

describe("the dashboard", () => {
  test("the overview and the queues page say why a queue's Claude jobs wait; the overview charts 14 days of spend", async () => {
    await f.request("PUT", "/api/queues/capped/budget", { json: { daily_usd: 1 } });
    await spend("capped", { totalCostUsd: 1.5 });
    await spend("open", { totalCostUsd: 0.25 });
    const overview = await (await f.request("GET", "/")).text();
    expect(overview).toContain("Queue capped: over budget until 00:00 UTC (spent $1.50 of $1.00 today); its Claude jobs wait.");
    expect(overview).toContain("data-spend-chart");
    expect(overview.match(/<g data-day="/g)?.length).toBe(14);
    expect(overview).toContain('data-spend-queue="capped" data-over-budget="true"');
    const queues = await (await f.request("GET", "/queues")).text();
    expect(queues).toContain("Queue capped: over budget until 00:00 UTC");
    const partial = await (await f.request("GET", "/partials/queues")).text();
    expect(partial).toContain('data-over-budget="capped"');
  });

  test("the job page shows a Claude job's cost against its max_budget_usd", async () => {
    const id = await insertJob(f.db, {
      status: "finished", payload: { prompt: "p", cwd: "/tmp", max_budget_usd: 2 },
      result: { totalCostUsd: 0.5, numTurns: 1, sessionId: "s" },
    });
    expect(await (await f.request("GET", `/jobs/${id}`)).text()).toContain("$0.5000 of $2.00 (25%)");
  });

  test("a queued Claude job's page says it waits for its over-budget queue's next day; a finished one's does not", async () => {
    await f.request("PUT", "/api/queues/capped/budget", { json: { daily_usd: 1, timezone: "Europe/Paris" } });
    await spend("capped", { totalCostUsd: 1 });
    const waiting = await insertJob(f.db, { status: "queued", queue: "capped" });
    expect(await (await f.request("GET", `/jobs/${waiting}`)).text())
      .toContain("Queue capped is over budget until 00:00 Europe/Paris (spent $1.00 of $1.00 today): this Claude job waits for its next day.");
    const other = await insertJob(f.db, { status: "queued", queue: "capped", kind: "noop", payload: {} });
    expect(await (await f.request("GET", `/jobs/${other}`)).text()).not.toContain("data-waits-for-budget");
    await f.request("DELETE", "/api/queues/capped/budget");
    expect(await (await f.request("GET", `/jobs/${waiting}`)).text()).not.toContain("data-waits-for-budget");
  });

  test("queue names are escaped in the chart, its legend, the notices and the table", async () => {
    const evil = `<img src=x onerror=alert(1)>"'&`;
    const today = new Date().toISOString().slice(0, 10);
    const rows: SpendRow[] = [{ queue: evil, day: today, costUsd: 2, inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheCreationTokens: 0, turns: 1, attempts: 1 }];
    const budgets: QueueBudget[] = [{
      queue: evil, dailyUsd: 1, timezone: "UTC", today, spentTodayUsd: 2, overBudget: true, dayEndsAt: new Date(), reason: "over budget until 00:00 UTC",
    }];
    const days = lastDays(today, 14);
    for (const html of [String(SpendChart({ rows, days })), String(BudgetNotices({ budgets })), String(SpendCard({ rows, budgets, days }))]) {
      expect(await activeContent(html)).toEqual([]);
      expect(html).not.toContain("<img");
      expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    }
  });
});
