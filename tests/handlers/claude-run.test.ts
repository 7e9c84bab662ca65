// The Claude handler run against the fake CLI, one outcome per test: what it
// returns on success, and which error (retryable, retry-later, permanent) with
// which message it throws on each kind of failure.

import { describe, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ClaudeRunError, ClaudeUsageLimitError, listLogFiles } from "../../src/handlers/claude/index.ts";
import { PermanentJobError, RetryJobError } from "../../src/handlers/types.ts";
import { FAKE_BIN, FAKE_CLAUDE, FAKE_CLAUDE_ANY_PATH, fakeEnv, makeHandler, makeJob, runJob, tempDir } from "./claude-helpers.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const cwd = tempDir();

describe("a successful run", () => {
  test("returns the last result's summary, the exit code and the log paths, and reports the session id", async () => {
    const { handler, logDir } = makeHandler();
    const progress: Record<string, unknown>[] = [];
    const job = makeJob({ prompt: "say hi", cwd });
    const { value, error } = await runJob(handler, job, undefined, (patch) => progress.push(patch));
    expect(error).toBeUndefined();
    expect(value).toMatchObject({
      subtype: "success", isError: false, result: "echo: say hi", numTurns: 2, totalCostUsd: 0.0170877,
      usage: { input_tokens: 21, output_tokens: 254 }, errors: null, apiRetries: 0, exitCode: 0, signal: null,
      model: "claude-sonnet-4-6",
    });
    expect(value!.sessionId).toMatch(UUID);
    expect(value!.durationMs).toBeNumber();
    expect(progress).toEqual([{ sessionId: value!.sessionId }]);
    // The raw output stays in the log files, named by job id and attempt start.
    const files = await listLogFiles(logDir, job.id);
    expect(files.map((f) => f.stream)).toEqual(["stdout", "stderr"]);
    expect(value!.stdoutLog).toBe(files[0]!.path);
    expect(value!.stderrLog).toBe(files[1]!.path);
    expect(files[0]!.name).toMatch(new RegExp(`^${job.id}-\\d{8}-\\d{6}\\.stdout\\.log$`));
    const lines = readFileSync(files[0]!.path, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type)).toEqual(["system", "assistant", "user", "result"]);
    expect(lines[0].cwd).toBe(cwd); // ran in the job's cwd
  });

  test("takes the LAST result line, never the first", async () => {
    const { handler } = makeHandler();
    const { value } = await runJob(handler, makeJob({ prompt: "fake:two-results", cwd }));
    expect(value?.result).toBe("echo: fake:two-results");
    expect(value?.totalCostUsd).toBe(0.0170877);
  });

  test("finds claude on the PATH of the env it was given, or at claudePath", async () => {
    const onPath = makeHandler({ env: { ...fakeEnv(), PATH: `${FAKE_BIN}:/usr/bin:/bin` } });
    expect((await runJob(onPath.handler, makeJob({ prompt: "hi", cwd }))).value?.result).toBe("echo: hi");
    const atPath = makeHandler({ claudePath: FAKE_CLAUDE_ANY_PATH, env: { ...fakeEnv(), PATH: "/usr/bin:/bin" } });
    expect((await runJob(atPath.handler, makeJob({ prompt: "hi", cwd }))).value?.result).toBe("echo: hi");
    // Neither on PATH nor configured: not found, and said so.
    const nowhere = makeHandler({ env: { ...fakeEnv(), PATH: "/usr/bin:/bin" } });
    expect((await runJob(nowhere.handler, makeJob({ prompt: "hi", cwd }))).error?.message).toContain("claude");
  });
});

describe("a failed attempt that may succeed on retry", () => {
  test("exit 1 without a result: the message ends with the last stderr lines, bounded", async () => {
    const { handler } = makeHandler();
    const { error } = await runJob(handler, makeJob({ prompt: "fake:fail", cwd }));
    expect(error).toBeInstanceOf(ClaudeRunError);
    expect(error!.message).toStartWith("claude exited with code 1 without a result");
    expect(error!.message).toContain("noise line 499\nError: fake failure at the end");
    expect(error!.message).not.toContain("noise line 400\n"); // only the tail
    expect(error!.result).toMatchObject({ exitCode: 1, subtype: null });
    expect(error!.result!.sessionId).toMatch(UUID);
  });

  test("is_error true with exit 0 is a failure", async () => {
    const { handler } = makeHandler();
    const { value, error } = await runJob(handler, makeJob({ prompt: "fake:is-error", cwd }));
    expect(value).toBeUndefined();
    expect(error).toBeInstanceOf(ClaudeRunError);
    expect(error!.message).toContain("API Error: 500 Internal server error");
    expect(error!.result).toMatchObject({ exitCode: 0, isError: true });
  });

  test("exit 0 without any result event is a failure", async () => {
    const { handler } = makeHandler();
    const { error } = await runJob(handler, makeJob({ prompt: "fake:no-result", cwd }));
    expect(error).toBeInstanceOf(ClaudeRunError);
    expect(error!.message).toStartWith("claude exited with code 0 without a result");
  });
});

describe("rate and usage limits wait longer before the retry", () => {
  test("a rate limit (even with exit 0) is a RetryJobError of a minute, doubling per attempt", async () => {
    const { handler } = makeHandler();
    const first = await runJob(handler, makeJob({ prompt: "fake:rate-limit", cwd }, { attempts: 1 }));
    expect(first.error).toBeInstanceOf(RetryJobError);
    expect(first.error!.message).toContain("API Error: Request rejected (429)");
    expect(first.error!.delaySeconds).toBe(60);
    expect(first.error!.result).toMatchObject({
      apiRetries: 3, lastApiError: { status: 429, error: "rate_limit" }, assistantError: "rate_limit", apiErrorStatus: 429, exitCode: 0,
    });
    const third = await runJob(handler, makeJob({ prompt: "fake:rate-limit", cwd }, { attempts: 3 }));
    expect(third.error!.delaySeconds).toBe(240);
  });

  test("overloaded (529) is a RetryJobError", async () => {
    const { handler } = makeHandler();
    const { error } = await runJob(handler, makeJob({ prompt: "fake:overloaded", cwd }));
    expect(error).toBeInstanceOf(RetryJobError);
    expect(error!.delaySeconds).toBe(60);
    expect(error!.result).toMatchObject({ apiRetries: 3, lastApiError: { status: 529 }, apiErrorStatus: 529 });
  });

  // Parking on a usage limit (until the reset, the attempt refunded) is tested in tests/usage-limits/.
  test("a usage limit with a rejected rate_limit_event parks the job until the limit resets, plus a jitter", async () => {
    const { handler } = makeHandler();
    const before = Date.now();
    const { error } = await runJob(handler, makeJob({ prompt: "fake:usage-limit", cwd }));
    expect(error).toBeInstanceOf(ClaudeUsageLimitError);
    expect(error!.message).toContain("You've hit your limit");
    expect(error!.message).toStartWith("waiting for the usage limit to reset at ");
    const resetsAt = (error!.result!.rateLimit as { resetsAt: number }).resetsAt;
    expect(error!.result!.rateLimit).toMatchObject({ status: "rejected", rateLimitType: "five_hour" });
    const delayMs = (error as unknown as ClaudeUsageLimitError).delayMs;
    expect(delayMs).toBeGreaterThanOrEqual(resetsAt * 1000 - before - 1000);
    expect(delayMs).toBeLessThanOrEqual(resetsAt * 1000 - before + 61_000);
  });
});

describe("the CLI retried for minutes without reaching the API", () => {
  test("no network: retried minutes later, doubling, not after the usual seconds", async () => {
    const { handler } = makeHandler();
    const first = await runJob(handler, makeJob({ prompt: "fake:no-network", cwd }, { attempts: 1 }));
    expect(first.error).toBeInstanceOf(ClaudeRunError);
    expect(first.error!.delaySeconds).toBe(300);
    expect(first.error!.message).toStartWith("claude could not reach the Anthropic API (no response) although it retried 10 times by itself: " +
      '"API Error: Unable to connect to API (ConnectionRefused)"');
    expect(first.error!.message).toContain("HTTPS_PROXY");
    expect(first.error!.result).toMatchObject({ apiRetries: 10, lastApiError: { status: null }, assistantError: "server_error", exitCode: 1 });
    const second = await runJob(handler, makeJob({ prompt: "fake:no-network", cwd }, { attempts: 2 }));
    expect(second.error!.delaySeconds).toBe(600);
  });
});

describe("failures that cannot succeed on retry are permanent and say what to do", () => {
  const permanent = async (payload: Record<string, unknown>, options = {}) => {
    const { handler } = makeHandler(options);
    const { error } = await runJob(handler, makeJob(payload));
    expect(error).toBeInstanceOf(PermanentJobError);
    return error!;
  };

  test("credit balance too low", async () => {
    const e = await permanent({ prompt: "fake:credit", cwd });
    expect(e.message).toStartWith("Credit balance is too low.");
    expect(e.message).toContain("Add credits");
  });

  test("the CLI is not installed: names the path tried and how to configure it", async () => {
    const e = await permanent({ prompt: "hi", cwd }, { env: { ...fakeEnv(), PATH: "/nowhere" } });
    expect(e.message).toContain("tried claude (looked up on PATH=/nowhere): not found");
    expect(e.message).toContain("claude path option");
    const byPath = await permanent({ prompt: "hi", cwd }, { claudePath: "/opt/nothing/claude" });
    expect(byPath.message).toContain("tried /opt/nothing/claude: not found");
  });

  test("the cwd was removed after enqueue", async () => {
    const gone = tempDir();
    rmSync(gone, { recursive: true });
    const e = await permanent({ prompt: "hi", cwd: gone });
    expect(e.message).toContain(`${gone} does not exist`);
    expect(e.message).toContain("Recreate the directory");
  });

  test("a flag this CLI does not know", async () => {
    const wrapper = join(tempDir(), "claude");
    await Bun.write(wrapper, `#!/bin/sh\nexec ${FAKE_CLAUDE} --no-such-flag "$@"\n`);
    await Bun.$`chmod +x ${wrapper}`;
    const e = await permanent({ prompt: "hi", cwd }, { claudePath: wrapper });
    expect(e.message).toContain("claude rejected its command line: error: unknown option '--no-such-flag'");
    expect(e.message).toContain("upgrade Claude Code");
  });

  test("running as root without IS_SANDBOX=1: the refusal says what to set", async () => {
    expect(process.getuid!()).toBe(0); // the fake refuses only for root, as the real CLI does
    const { IS_SANDBOX: _, ...env } = fakeEnv();
    const e = await permanent({ prompt: "hi", cwd }, { env });
    expect(e.message).toContain("runs as root");
    expect(e.message).toContain("Set IS_SANDBOX=1");
    expect(e.message).toContain("non-root user");
  });

  test("not logged in (no key, no login in its HOME): says how to give a worker credentials", async () => {
    const { ANTHROPIC_API_KEY: _, ...env } = fakeEnv();
    const e = await permanent({ prompt: "hi", cwd }, { env });
    expect(e.message).toStartWith('claude cannot authenticate for this worker: "Not logged in · Please run /login".');
    expect(e.message).toContain("set ANTHROPIC_API_KEY (or CLAUDE_CODE_OAUTH_TOKEN");
    expect(e.message).toContain("in the worker's environment");
    expect(e.message).toContain(`log in once as the user the worker runs as, with the same HOME`);
    expect(e.message).toContain(`the login is kept in ${env.HOME}/.claude`);
    expect((e as PermanentJobError).result).toMatchObject({ assistantError: "authentication_failed", isError: true, exitCode: 1 });
    // A login in that HOME counts as credentials, as for the real CLI.
    await Bun.write(join(env.HOME!, ".claude", ".credentials.json"), "{}");
    const { handler } = makeHandler({ env });
    expect((await runJob(handler, makeJob({ prompt: "hi", cwd }))).value?.result).toBe("echo: hi");
  });

  test("a session unknown to this worker's HOME: said once, with where sessions live", async () => {
    const session = crypto.randomUUID();
    const e = await permanent({ prompt: "go on", cwd, resume: session });
    const said = `No conversation found with session ID: ${session}`;
    expect(e.message).toStartWith(`claude found no session ${session} to resume (payload.resume): "${said}".`);
    expect(e.message.split(said).length).toBe(2); // once, though the CLI printed it on stdout and stderr
    expect(e.message).toContain("saved under the HOME of the user that ran them");
    expect((e as PermanentJobError).result).toMatchObject({ subtype: "error_during_execution", sessionId: session, errors: [said] });
  });

  test("a session resumes for the HOME and cwd that made it, not for another HOME", async () => {
    const env = fakeEnv();
    const made = makeHandler({ env });
    const session = (await runJob(made.handler, makeJob({ prompt: "start", cwd }))).value!.sessionId as string;
    expect((await runJob(made.handler, makeJob({ prompt: "go on", cwd, resume: session }))).value?.sessionId).toBe(session);
    const elsewhere = makeHandler({ env: { ...env, HOME: tempDir("claude-home-") } });
    expect((await runJob(elsewhere.handler, makeJob({ prompt: "go on", cwd, resume: session }))).error).toBeInstanceOf(PermanentJobError);
  });

  test("payload.permission_mode bypassPermissions as root without IS_SANDBOX=1 is refused too, and said so", async () => {
    const { IS_SANDBOX: _, ...env } = fakeEnv();
    const e = await permanent({ prompt: "hi", cwd, permission_mode: "bypassPermissions" }, { env });
    expect(e.message).toStartWith("claude refused payload.permission_mode bypassPermissions because the worker runs as root.");
    expect(e.message).toContain("payload.permission_mode other than bypassPermissions");
    // Another mode runs as root.
    const { handler } = makeHandler({ env });
    expect((await runJob(handler, makeJob({ prompt: "hi", cwd, permission_mode: "acceptEdits" }))).value?.result).toBe("echo: hi");
  });

  test("max turns and max budget: raise the limit or resume the session", async () => {
    const turns = await permanent({ prompt: "fake:max-turns", cwd, max_turns: 2 });
    expect(turns.message).toContain("max_turns limit");
    expect(turns.message).toMatch(/payload\.resume = "[0-9a-f-]{36}"/);
    const budget = await permanent({ prompt: "fake:budget", cwd, max_budget_usd: 0.5 });
    expect(budget.message).toContain("Reached maximum budget ($0.5)");
    expect((budget as PermanentJobError).result).toMatchObject({ subtype: "error_max_budget_usd", errors: ["Reached maximum budget ($0.5)"] });
  });
});
