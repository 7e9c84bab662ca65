// `claude-jobs queue budget` and what stats says of budgets, through the real
// CLI: set, show, clear; bad input names its flag, exits non-zero and changes
// nothing; stats (text and --json) names an over-budget queue and until when.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { runCli } from "../helpers/cli.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
beforeEach(async () => {
  await db.sql`TRUNCATE claude_jobs, claude_job_queues, claude_job_spend`;
});
afterAll(async () => {
  await db.drop();
});

const cli = (...args: string[]) => runCli([...args, `--database-url=${db.url}`]);
const queueRows = async () => db.sql`SELECT name, daily_budget_usd::text AS usd, budget_timezone AS tz, updated_at FROM claude_job_queues ORDER BY name`;

describe("claude-jobs queue budget", () => {
  test("sets a daily budget in UTC or a zone, shows it, keeps the zone when not given, clears it", async () => {
    const set = await cli("queue", "budget", "nightly", "--daily-usd", "20");
    expect(set.code).toBe(0);
    expect(set.stdout).toContain("queue nightly: daily budget $20.00 for Claude jobs (days in UTC); spent today $0.00");
    expect((await cli("queue", "budget", "nightly", "--daily-usd=7.50", "--timezone", "europe/paris")).stdout).toContain("$7.50 for Claude jobs (days in Europe/Paris)");
    const kept = JSON.parse((await cli("queue", "budget", "nightly", "--daily-usd", "9", "--json")).stdout);
    expect(kept).toMatchObject({ queue: "nightly", dailyUsd: 9, timezone: "Europe/Paris", overBudget: false, reason: null });
    expect((await cli("queue", "budget", "nightly")).stdout).toContain("daily budget $9.00");
    expect((await cli("queue", "budget", "nightly", "--clear")).stdout).toContain("queue nightly: daily budget removed; its Claude jobs are claimed again");
    expect((await cli("queue", "budget", "nightly", "--clear")).stdout).toContain("queue nightly had no daily budget");
    expect((await cli("queue", "budget", "nightly")).stdout).toContain("queue nightly has no daily budget");
    expect(await queueRows()).toMatchObject([{ name: "nightly", usd: null, tz: "Europe/Paris" }]);
  });

  test("bad input names the flag, exits non-zero, and changes nothing", async () => {
    await cli("queue", "budget", "nightly", "--daily-usd", "20");
    const before = await queueRows();
    const cases: [string[], RegExp][] = [
      [["--daily-usd", "abc"], /--daily-usd: must be an amount in US dollars above 0 and at most 1000000, like 20 or 7.50; got "abc"/],
      [["--daily-usd", "0"], /--daily-usd: must be an amount/],
      [["--daily-usd=-5"], /--daily-usd: must be an amount/],
      [["--daily-usd", "1e3"], /--daily-usd: must be an amount/],
      [["--daily-usd", "2000000"], /--daily-usd: must be an amount/],
      [["--daily-usd", "5", "--timezone", "Mars/Olympus_Mons"], /--timezone: must be an IANA time zone name like UTC, Europe\/Paris or America\/New_York; got "Mars\/Olympus_Mons"/],
      [["--timezone", "Europe/Paris"], /--timezone: is the zone of a budget's days: give it with --daily-usd/],
      [["--clear", "--daily-usd", "5"], /--clear: removes the budget, so it takes no --daily-usd or --timezone/],
      [["--by", "me", "--daily-usd", "5"], /--by: only applies to queue pause/],
    ];
    for (const [flags, message] of cases) {
      const r = await cli("queue", "budget", "nightly", ...flags);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe("");
    }
    const badName = await cli("queue", "budget", "Not A Queue", "--daily-usd", "5");
    expect(badName.code).not.toBe(0);
    expect(badName.stderr).toContain("name:");
    const elsewhere = await cli("queue", "pause", "nightly", "--daily-usd", "5");
    expect(elsewhere.code).not.toBe(0);
    expect(elsewhere.stderr).toContain("--daily-usd: only applies to queue budget");
    expect(await queueRows()).toEqual(before);
  });
});

describe("stats and budgets", () => {
  test("an over-budget queue is named with the time its Claude jobs wait until; --json has budgets and spend per day", async () => {
    await cli("queue", "budget", "capped", "--daily-usd", "1", "--timezone", "Europe/Paris");
    await db.sql`INSERT INTO claude_jobs (kind, queue) VALUES ('claude', 'capped'), ('claude', 'open')`;
    await db.sql`INSERT INTO claude_job_spend (queue, day, cost_usd, input_tokens, output_tokens, turns, attempts)
                 VALUES ('capped', claude_jobs_queue_day(now(), 'Europe/Paris'), 1.25, 100, 20, 6, 2),
                        ('open', claude_jobs_queue_day(now(), NULL), 0.5, 10, 2, 1, 1),
                        ('open', claude_jobs_queue_day(now(), NULL) - 20, 9, 0, 0, 0, 1)`;
    const text = await cli("stats");
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("queue capped: over budget until 00:00 Europe/Paris (spent $1.25 of $1.00 today): its Claude jobs wait");
    expect(text.stdout).not.toContain("queue open:");
    const json = JSON.parse((await cli("stats", "--json")).stdout);
    expect(json.budgets).toMatchObject([{ queue: "capped", dailyUsd: 1, spentTodayUsd: 1.25, overBudget: true, reason: "over budget until 00:00 Europe/Paris" }]);
    // The last 14 days only: the spend of 20 days ago is not in it.
    expect(json.spend.map((s: { queue: string; costUsd: number }) => [s.queue, s.costUsd]).sort()).toEqual([["capped", 1.25], ["open", 0.5]]);
    expect(json.spend.find((s: { queue: string }) => s.queue === "capped")).toMatchObject({ inputTokens: 100, outputTokens: 20, turns: 6, attempts: 2 });
  });
});
