// What people see of usage limits: stats (text and --json), workers, claude
// status, the dashboard overview's notice, and the job page's line for a
// parked job and for a run that was warned. Rows are inserted directly; the
// texts are checked as a person reads them, with job data escaped.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { usagePauseRecord, usageWarningRecord } from "../../src/db/usage.ts";
import { accountKeyOf, formatResetTime } from "../../src/handlers/claude/index.ts";
import { cliEnv, runCli } from "../helpers/cli.ts";
import { insertJob, webFixture, type WebFixture } from "../web/helpers.ts";
import { tempDir } from "../claude/helpers.ts";

let web: WebFixture;
const account = accountKeyOf({ HOME: tempDir("usage-visible-home-"), ANTHROPIC_API_KEY: "sk-ant-never-shown" });
const until = new Date(Date.now() + 2 * 3600_000);
const shown = formatResetTime(until, new Date(), "UTC");

beforeAll(async () => {
  web = await webFixture();
});
beforeEach(async () => {
  await web.db.sql`DELETE FROM claude_job_usage_limits`;
});
afterAll(() => web.db.drop());

const pause = () => usagePauseRecord(web.db.sql, {
  accountKey: account.key, accountLabel: account.label, until, reason: `waiting for the usage limit to reset at ${shown} (UTC)`,
  rateLimitType: "five_hour", jobId: null,
});
const cli = (...args: string[]) => runCli(args, { env: cliEnv({ DATABASE_URL: web.db.url, TZ: "UTC" }) });

describe("a paused account is shown", () => {
  test("by stats, stats --json, workers and claude status", async () => {
    await pause();
    const stats = await cli("stats");
    expect(stats.code).toBe(0);
    expect(stats.stdout).toContain(`Claude paused until ${shown} (usage limit): no Claude job starts on its workers`);
    const json = JSON.parse((await cli("stats", "--json")).stdout);
    expect(json.usageLimits).toHaveLength(1);
    expect(json.usageLimits[0]).toMatchObject({ accountKey: account.key, paused: true, pausedUntil: until.toISOString(), rateLimitType: "five_hour" });
    expect((await cli("workers")).stdout).toContain(`Claude paused until ${shown} (usage limit)`);
    const status = await cli("claude", "status");
    expect(status.stdout).toContain(account.key.slice(0, 12));
    expect(status.stdout).toContain(`Claude paused until ${shown} (usage limit)`);
    expect(status.stdout + stats.stdout + JSON.stringify(json)).not.toContain("sk-ant-never-shown");
  });

  test("by a notice on the dashboard overview; none once resumed", async () => {
    await pause();
    const html = await (await web.request("GET", "/partials/overview")).text();
    expect(html).toContain("data-usage-paused");
    expect(html).toMatch(/Claude paused until \d\d:\d\d \(usage limit\)/);
    await runCli(["claude", "resume-now"], { env: cliEnv({ DATABASE_URL: web.db.url }) });
    expect(await (await web.request("GET", "/partials/overview")).text()).not.toContain("data-usage-paused");
  });

  test("the overview shows the latest warning of the last hour, not older ones", async () => {
    const job = await insertJob(web.db, { status: "finished", kind: "claude", payload: { prompt: "p", cwd: "/tmp" } });
    await usageWarningRecord(web.db.sql, { accountKey: account.key, accountLabel: account.label, resetsAt: until, rateLimitType: "five_hour", jobId: job });
    const html = await (await web.request("GET", "/partials/overview")).text();
    expect(html).toContain("Claude usage limit near: warned at");
    expect(html).toContain(`href="/jobs/${job}"`);
    await web.db.sql`UPDATE claude_job_usage_limits SET warning_at = now() - interval '61 minutes'`;
    expect(await (await web.request("GET", "/partials/overview")).text()).not.toContain("usage limit near");
  });
});

describe("the job page", () => {
  test("says a parked job waits for the reset, in its own words, escaped", async () => {
    const reason = "waiting for the usage limit to reset at 20:00 (Europe/Paris) <b>";
    const id = await insertJob(web.db, {
      kind: "claude", payload: { prompt: "p", cwd: "/tmp" }, runInSeconds: 3600,
      result: { sessionId: "11111111-2222-4333-8444-555555555555", usageLimit: { reason, accountKey: account.key } },
    });
    const html = await (await web.request("GET", `/jobs/${id}`)).text();
    expect(html).toContain("data-usage-limit");
    expect(html).toContain("Parked: waiting for the usage limit to reset at 20:00 (Europe/Paris) &lt;b&gt;. Its session resumes then");
    expect(html).not.toContain("(Europe/Paris) <b>");
  });

  test("shows the allowed_warning a run saw", async () => {
    const id = await insertJob(web.db, {
      status: "finished", kind: "claude", payload: { prompt: "p", cwd: "/tmp" },
      result: { sessionId: "s", rateLimitWarning: { resetsAt: Math.floor(until.getTime() / 1000), rateLimitType: "five_hour", utilization: 0.85 } },
    });
    const html = await (await web.request("GET", `/jobs/${id}`)).text();
    expect(html).toContain("The run was warned that the five-hour usage limit is near (85% used); it resets at");
  });
});

describe("the worker's usage-limit flags", () => {
  test("a bad --usage-limit-wait, --continue-prompt or --claude-account exits 2 naming the flag", async () => {
    const env = cliEnv({ DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" });
    const wait = await runCli(["worker", "--usage-limit-wait=soon"], { env });
    expect(wait.code).toBe(2);
    expect(wait.stderr).toContain("--usage-limit-wait: must be a duration");
    const prompt = await runCli(["worker", "--continue-prompt= "], { env });
    expect(prompt.code).toBe(2);
    expect(prompt.stderr).toContain("--continue-prompt: must be a non-empty text");
    const account = await runCli(["worker", "--claude-account="], { env });
    expect(account.code).toBe(2);
    expect(account.stderr).toContain("--claude-account: must be a name of 1 to 200 printable characters");
    expect((await runCli(["worker", "--help"], { env })).stdout).toContain("CLAUDE_JOBS_USAGE_LIMIT_WAIT");
  });
});
