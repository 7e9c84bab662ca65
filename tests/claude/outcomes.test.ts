// Every way a Claude run can end, through a real Worker running the Claude
// handler against the fake CLI: what the job records, whether and when it is
// retried, and that a timeout stops the whole process tree.

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { Queue } from "../../src/queue/client.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { ClaudeWorkers, isAlive, pidFileIn, tempDir, waitForJob, waitForPid } from "./helpers.ts";

let db: TestDatabase;
let queue: Queue;
const workers = new ClaudeWorkers();
const cwd = tempDir("claude-e2e-cwd-");
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

beforeAll(async () => {
  db = await createTestDatabase();
  queue = new Queue(db.sql);
});
afterEach(() => workers.stopAll());
afterAll(() => db.drop());

/** A worker on its own queue, and a job enqueued to it. */
async function run(q: string, prompt: string, extra: { maxAttempts?: number; payload?: Record<string, unknown>; claudePath?: string; env?: Record<string, string> } = {}) {
  await workers.start(db.sql, { queue: q, env: extra.env, handler: extra.claudePath ? { claudePath: extra.claudePath } : undefined });
  return queue.enqueue({ queue: q, maxAttempts: extra.maxAttempts ?? 3, payload: { prompt, cwd, ...extra.payload } });
}

describe("a run that succeeds", () => {
  test("finishes the job and records session id, result text, turns, duration, cost and usage", async () => {
    const id = await run("ok", "summarize the repo");
    const job = await waitForJob(queue, id);
    expect(job.status).toBe("finished");
    expect(job.attempts).toBe(1);
    expect(job.errors).toEqual([]);
    expect(job.result).toMatchObject({
      result: "echo: summarize the repo", isError: false, subtype: "success", numTurns: 2, totalCostUsd: 0.0170877,
      usage: { input_tokens: 21, cache_creation_input_tokens: 6513, cache_read_input_tokens: 21737, output_tokens: 254 },
      exitCode: 0,
    });
    expect(job.result!.sessionId).toMatch(UUID);
    expect(job.result!.durationMs).toBeNumber();
  });
});

describe("a failed attempt", () => {
  test("exit 1 is retried with backoff, then fails with every attempt's error kept", async () => {
    const id = await run("exit1", "fake:fail", { maxAttempts: 3 });
    const job = await waitForJob(queue, id);
    expect(job.status).toBe("failed");
    expect(job.attempts).toBe(3);
    expect(job.errors.map((e) => e.attempt)).toEqual([1, 2, 3]);
    for (const e of job.errors) expect(e.message).toContain("claude exited with code 1 without a result");
    expect(job.errors[0]!.message).toContain("Error: fake failure at the end");
    // Backoff 2^(attempt-1) s: at least 1s before the 2nd run and 2s before the 3rd.
    const at = job.errors.map((e) => new Date(e.at).getTime());
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(1000);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(2000);
    expect(job.result).toMatchObject({ exitCode: 1, subtype: null }); // the failed run's summary is kept
  });

  test("is_error with exit 0 is a failed attempt, not a success", async () => {
    const id = await run("iserror", "fake:is-error", { maxAttempts: 2 });
    const first = await waitForJob(queue, id, (j) => j.errors.length === 1);
    expect(first.status).not.toBe("finished");
    expect(first.errors[0]!.message).toContain("API Error: 500");
    const job = await waitForJob(queue, id);
    expect(job.status).toBe("failed");
    expect(job.attempts).toBe(2);
    expect(job.result).toMatchObject({ isError: true, exitCode: 0, result: "API Error: 500 Internal server error" });
  });

  test("a rate limit is retried after the longer delay, not the usual backoff", async () => {
    const id = await run("ratelimit", "fake:rate-limit");
    const job = await waitForJob(queue, id, (j) => j.errors.length === 1);
    expect(job.status).toBe("queued");
    expect(job.errors[0]!.message).toContain("rate or usage limit");
    const [row] = await db.sql`SELECT extract(epoch FROM run_at - now())::float8 AS wait_s FROM claude_jobs WHERE id = ${id}`;
    expect(row!.wait_s).toBeGreaterThan(50); // a minute, where the usual backoff would be 1s
    expect(row!.wait_s).toBeLessThanOrEqual(60);
    expect(job.result).toMatchObject({ apiRetries: 3, lastApiError: { status: 429, error: "rate_limit" } });
  });

  test("a spent credit balance fails at once, with what to do", async () => {
    const id = await run("credit", "fake:credit", { maxAttempts: 5 });
    const job = await waitForJob(queue, id);
    expect(job.status).toBe("failed");
    expect(job.attempts).toBe(1);
    expect(job.error).toStartWith("Credit balance is too low.");
    expect(job.error).toContain("Add credits");
    expect(job.result).toMatchObject({ assistantError: "billing_error" });
  });

  test("a worker with no credentials fails the job at once, saying what the worker needs", async () => {
    const id = await run("nologin", "hello", { maxAttempts: 3, env: { ANTHROPIC_API_KEY: "" } });
    const job = await waitForJob(queue, id);
    expect(job.status).toBe("failed");
    expect(job.attempts).toBe(1);
    expect(job.error).toStartWith('claude cannot authenticate for this worker: "Not logged in · Please run /login".');
    expect(job.error).toContain("ANTHROPIC_API_KEY");
    expect(job.result).toMatchObject({ assistantError: "authentication_failed", isError: true, exitCode: 1 });
  });

  test("resuming a session this worker does not have fails at once, its text said once", async () => {
    const session = crypto.randomUUID();
    const id = await run("nosession", "go on", { maxAttempts: 3, payload: { resume: session } });
    const job = await waitForJob(queue, id);
    expect(job.status).toBe("failed");
    expect(job.attempts).toBe(1);
    expect(job.error!.split(`No conversation found with session ID: ${session}`).length).toBe(2);
    expect(job.error).toContain("saved under the HOME of the user that ran them");
  });

  test("when the CLI could not reach the API for minutes, the retry waits minutes too", async () => {
    const id = await run("offline", "fake:no-network");
    const job = await waitForJob(queue, id, (j) => j.errors.length === 1);
    expect(job.status).toBe("queued");
    expect(job.errors[0]!.message).toStartWith("claude could not reach the Anthropic API");
    const [row] = await db.sql`SELECT extract(epoch FROM run_at - now())::float8 AS wait_s FROM claude_jobs WHERE id = ${id}`;
    expect(row!.wait_s).toBeGreaterThan(290); // 5 minutes, where the usual backoff would be 1s
    expect(row!.wait_s).toBeLessThanOrEqual(300);
    await queue.cancel(id);
  });

  test("a CLI that is not installed fails at once, naming what was tried and how to fix it", async () => {
    const id = await run("missing", "hello", { maxAttempts: 5, claudePath: "/nonexistent/bin/claude" });
    const job = await waitForJob(queue, id);
    expect(job.status).toBe("failed");
    expect(job.attempts).toBe(1);
    expect(job.error).toContain("cannot run the Claude Code CLI: tried /nonexistent/bin/claude: not found");
    expect(job.error).toContain("npm install -g @anthropic-ai/claude-code");
  });

  test("a payload timeout stops the whole process tree and is a failed attempt", async () => {
    const pidFile = pidFileIn(tempDir("claude-e2e-pid-"));
    const started = Date.now();
    const id = await run("timeout", "fake:spawn-child", { maxAttempts: 1, payload: { timeout: "1s" }, env: { FAKE_CLAUDE_PIDFILE: pidFile } });
    const grandchild = await waitForPid(pidFile);
    expect(isAlive(grandchild)).toBe(true);
    const job = await waitForJob(queue, id);
    expect(job.status).toBe("failed");
    expect(job.error).toStartWith("timed out after 1s");
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(isAlive(grandchild)).toBe(false);
    expect(job.result).toMatchObject({ signal: "SIGTERM" });
  });
});
