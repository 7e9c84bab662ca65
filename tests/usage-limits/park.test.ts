// Parking on a usage limit, end to end with a real worker, the Claude handler
// and the fake CLI: the job goes back to the queue until the reset (plus a
// jitter under a minute), its attempt refunded, its reason on the job; the
// account is paused in the database; resume-now lifts it, and the job resumes
// its session with the continuation prompt. The handler's clock is injected
// where a text's wall-clock time ("resets 8pm (Europe/Paris)") is read.

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { usageList } from "../../src/db/usage.ts";
import { Queue } from "../../src/queue/client.ts";
import { PARK_JITTER_MS } from "../../src/handlers/claude/usage-limit.ts";
import { cliEnv, runCli } from "../helpers/cli.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { ClaudeWorkers, tempDir, waitForJob } from "../claude/helpers.ts";

let db: TestDatabase;
let queue: Queue;
let workers: ClaudeWorkers;
const cwd = tempDir("usage-cwd-");
const argvFile = join(tempDir("usage-argv-"), "argv.json");

beforeAll(async () => {
  db = await createTestDatabase();
  queue = new Queue(db.sql);
});
afterEach(async () => {
  await workers?.stopAll();
  await db.sql`DELETE FROM claude_job_usage_limits`;
});
afterAll(async () => {
  await db.drop();
});

const epochIn = (ms: number) => Math.floor((Date.now() + ms) / 1000);
const parked = (id: string) => waitForJob(queue, id, (j) => j.status === "queued" && j.errors.length >= 1);
async function waitS(id: string): Promise<number> {
  const [row] = await db.sql`SELECT extract(epoch FROM run_at - now())::float8 AS s FROM claude_jobs WHERE id = ${id}`;
  return row!.s as number;
}

describe("a job that hits the usage limit", () => {
  test("is requeued at the reset plus a jitter, its attempt refunded, the reason on it, its account paused", async () => {
    workers = new ClaudeWorkers();
    await workers.start(db.sql, { queue: "park", concurrency: 2, env: { FAKE_CLAUDE_ARGV_FILE: argvFile } });
    const resetsAt = epochIn(3600_000);
    const id = await queue.enqueue({ queue: "park", maxAttempts: 1, payload: { prompt: `fake:rejected=${resetsAt}`, cwd } });
    const job = await parked(id);
    // maxAttempts 1 and still queued: the attempt did not count.
    expect(job.attempts).toBe(0);
    expect(job.error).toStartWith("waiting for the usage limit to reset at ");
    expect(job.error).toContain("You've hit your limit");
    const wait = await waitS(id);
    const untilReset = resetsAt - Date.now() / 1000;
    expect(wait).toBeGreaterThan(untilReset - 5);
    expect(wait).toBeLessThan(untilReset + PARK_JITTER_MS / 1000 + 1);
    const usage = job.result!.usageLimit as Record<string, unknown>;
    expect(usage).toMatchObject({ resetsAt: new Date(resetsAt * 1000).toISOString(), source: "rate_limit_event", rateLimitType: "five_hour" });
    expect(usage.sessionId).toBe(job.result!.sessionId);
    expect(usage.accountKey).toMatch(/^[0-9a-f]{64}$/);

    const [pause] = await usageList(db.sql);
    expect(pause).toMatchObject({ accountKey: usage.accountKey, paused: true, pausedByJob: id, rateLimitType: "five_hour" });
    expect(pause!.pausedUntil!.getTime()).toBe(resetsAt * 1000);
    // Never the secret: the row names the variable, not its value.
    expect(JSON.stringify(pause)).not.toContain("sk-ant");
    expect(pause!.accountLabel).toStartWith("ANTHROPIC_API_KEY, ");

    // show says why the job waits.
    const shown = await runCli(["show", id], { env: cliEnv({ DATABASE_URL: db.url }) });
    expect(shown.stdout).toContain("waiting for the usage limit to reset at ");

    // The same worker claims no other Claude job while paused.
    const other = await queue.enqueue({ queue: "park", payload: { prompt: "hello", cwd } });
    await Bun.sleep(600);
    expect((await queue.get(other)).status).toBe("queued");

    // resume-now: the pause goes, the parked job is due now and resumes its session with the continuation prompt.
    const lifted = await runCli(["claude", "resume-now"], { env: cliEnv({ DATABASE_URL: db.url }) });
    expect(lifted.code).toBe(0);
    expect(lifted.stdout).toContain("1 parked job(s) due now");
    const done = await waitForJob(queue, id);
    expect(done.status).toBe("finished");
    expect(done.attempts).toBe(1);
    expect(done.result).toMatchObject({ continuedSession: usage.sessionId, result: "echo: Continue where you left off." });
    const argv = JSON.parse(readFileSync(argvFile, "utf8")) as string[];
    expect(argv).toContain(`--resume=${usage.sessionId}`);
    expect(argv.slice(-2)).toEqual(["--", "Continue where you left off."]);
    expect((await waitForJob(queue, other)).status).toBe("finished");
    expect(await usageList(db.sql)).toEqual([]);
  });

  test("\"resets 8pm (Europe/Paris)\" parks until the next 20:00 in Paris after the injected clock; the continuation prompt is configurable", async () => {
    const clock = new Date("2026-12-01T17:30:00Z"); // 18:30 in Paris
    workers = new ClaudeWorkers();
    await workers.start(db.sql, {
      queue: "paris", env: { FAKE_CLAUDE_ARGV_FILE: argvFile },
      handler: { now: () => clock, random: () => 0, continuePrompt: "Go on, the limit has reset." },
    });
    const id = await queue.enqueue({ queue: "paris", payload: { prompt: "fake:limit-text", cwd } });
    const job = await parked(id);
    expect(job.error).toStartWith("waiting for the usage limit to reset at 20:00 (Europe/Paris): claude said");
    expect(job.result!.usageLimit).toMatchObject({ resetsAt: "2026-12-01T19:00:00.000Z", source: "text", zone: "Europe/Paris" });
    // 90 minutes from the injected clock, no jitter (random 0).
    expect(Math.abs((await waitS(id)) - 5400)).toBeLessThan(5);
    await db.sql`UPDATE claude_job_usage_limits SET paused_until = now() - interval '1 second'`;
    await queue.runNow(id);
    const done = await waitForJob(queue, id);
    expect(done.status).toBe("finished");
    expect(JSON.parse(readFileSync(argvFile, "utf8")).at(-1)).toBe("Go on, the limit has reset.");
  });

  test("\"Claude AI usage limit reached|<epoch>\" parks until that epoch; no time at all waits the configured wait", async () => {
    workers = new ClaudeWorkers();
    await workers.start(db.sql, { queue: "texts", handler: { usageLimitWaitMs: 20 * 60_000, random: () => 0 } });
    const resetsAt = epochIn(2 * 3600_000);
    const epoch = await parked(await queue.enqueue({ queue: "texts", payload: { prompt: `fake:limit-epoch=${resetsAt}`, cwd } }));
    expect(epoch.result!.usageLimit).toMatchObject({ resetsAt: new Date(resetsAt * 1000).toISOString(), source: "text" });
    expect(Math.abs((await waitS(epoch.id)) - (resetsAt - Date.now() / 1000))).toBeLessThan(5);
    await runCli(["claude", "resume-now"], { env: cliEnv({ DATABASE_URL: db.url }) });
    await waitForJob(queue, epoch.id, (j) => j.status === "finished");

    const bare = await parked(await queue.enqueue({ queue: "texts", payload: { prompt: "fake:limit-bare", cwd } }));
    expect(bare.result!.usageLimit).toMatchObject({ source: "fallback" });
    expect(bare.error).toContain("claude gave no reset time");
    expect(Math.abs((await waitS(bare.id)) - 1200)).toBeLessThan(5);
  });

  test("an allowed_warning is kept on the job's result and the account's row; the job finishes", async () => {
    workers = new ClaudeWorkers();
    const resetsAt = epochIn(3 * 3600_000);
    await workers.start(db.sql, { queue: "warn", env: { FAKE_CLAUDE_RESETS_AT: String(resetsAt) } });
    const job = await waitForJob(queue, await queue.enqueue({ queue: "warn", payload: { prompt: "fake:usage-warning", cwd } }));
    expect(job.status).toBe("finished");
    expect(job.result!.rateLimitWarning).toMatchObject({ resetsAt, rateLimitType: "five_hour", utilization: 0.85 });
    const rows = await usageList(db.sql);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ paused: false, warningJob: job.id, warningType: "five_hour" });
    expect(rows[0]!.warningResetsAt!.getTime()).toBe(resetsAt * 1000);
  });
});
