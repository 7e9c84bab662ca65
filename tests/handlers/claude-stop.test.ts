// Stopping a Claude run: a timeout or an abort stops the whole process tree
// (the CLI and what it started), escalates to SIGKILL when SIGTERM is
// ignored, and the handler settles only after the CLI has exited. Also: a
// big output streams to disk without growing memory.

import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { AbortReason } from "../../src/handlers/types.ts";
import { fakeEnv, isAlive, makeHandler, makeJob, runJob, tempDir, waitFor } from "./claude-helpers.ts";

const cwd = tempDir();

/** A handler whose fake writes its child's pid to a file, and a way to read it. */
function withPidFile(options: Parameters<typeof makeHandler>[0] = {}) {
  const pidFile = join(tempDir(), "child.pid");
  const made = makeHandler({ env: fakeEnv({ FAKE_CLAUDE_PIDFILE: pidFile }), ...options });
  const childPid = () => Number(readFileSync(pidFile, "utf8"));
  const started = () => existsSync(pidFile) && readFileSync(pidFile, "utf8") !== "";
  return { ...made, childPid, started };
}

describe("timeout", () => {
  test("the payload's timeout stops the CLI and its child, then fails the attempt (retryable)", async () => {
    const { handler, childPid } = withPidFile();
    const t0 = Date.now();
    const { error } = await runJob(handler, makeJob({ prompt: "fake:spawn-child", cwd, timeout: "1s" }));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(error?.name).toBe("ClaudeRunError");
    expect(error!.message).toStartWith("timed out after 1s");
    expect(error!.result).toMatchObject({ signal: "SIGTERM" });
    expect(isAlive(childPid())).toBe(false); // the grandchild too, not only the CLI
  });

  test("defaultTimeoutMs applies when the payload sets none", async () => {
    const { handler } = makeHandler({ defaultTimeoutMs: 300 });
    const { error } = await runJob(handler, makeJob({ prompt: "fake:hang", cwd }));
    expect(error!.message).toStartWith("timed out after 300ms");
  });
});

describe("abort (cancel, shutdown, executor timeout)", () => {
  test("stops the tree and throws the AbortReason's message, after the CLI exited", async () => {
    const { handler, childPid, started } = withPidFile();
    const controller = new AbortController();
    const sessions: unknown[] = [];
    const running = runJob(handler, makeJob({ prompt: "fake:spawn-child", cwd }), controller.signal, (p) => sessions.push(p.sessionId));
    await waitFor(started, 10_000, "the fake's child pid");
    const pid = childPid();
    expect(isAlive(pid)).toBe(true);
    const reason: AbortReason = { kind: "cancelled", message: "cancelled by alice from the dashboard" };
    controller.abort(reason);
    const { error } = await running;
    expect(error!.message).toBe("cancelled by alice from the dashboard");
    expect(isAlive(pid)).toBe(false);
    expect(sessions).toHaveLength(1); // the session id was known before the end
    expect(error!.result).toMatchObject({ sessionId: sessions[0], signal: "SIGTERM" });
  });

  test("a CLI that ignores SIGTERM gets SIGKILL after the grace period", async () => {
    const { handler, logDir } = makeHandler({ killGraceMs: 500 });
    const controller = new AbortController();
    const job = makeJob({ prompt: "fake:ignore-term", cwd });
    const running = runJob(handler, job, controller.signal);
    // Abort once the fake has printed its init line (its SIGTERM handler is set right after).
    await waitFor(() => {
      const out = join(logDir, readdirSync(logDir).find((n) => n.endsWith(".stdout.log")) ?? "none");
      return existsSync(out) && statSync(out).size > 0;
    }, 10_000, "the fake's first line");
    await Bun.sleep(100);
    const t0 = Date.now();
    controller.abort({ kind: "shutdown", message: "worker shutting down" } satisfies AbortReason);
    const { error } = await running;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(450);
    expect(error!.message).toBe("worker shutting down");
    expect(error!.result).toMatchObject({ signal: "SIGKILL" });
  });

  test("an already aborted signal runs nothing", async () => {
    const argvFile = join(tempDir(), "argv.json");
    const { handler } = makeHandler({ env: fakeEnv({ FAKE_CLAUDE_ARGV_FILE: argvFile }) });
    const controller = new AbortController();
    controller.abort(new Error("stopped before start"));
    const { error } = await runJob(handler, makeJob({ prompt: "hi", cwd }), controller.signal);
    expect(error!.message).toBe("stopped before start");
    expect(existsSync(argvFile)).toBe(false);
  });
});

test("processes the CLI leaves behind are stopped when it exits", async () => {
  const { handler, childPid } = withPidFile();
  const { value, error } = await runJob(handler, makeJob({ prompt: "fake:leave-child", cwd }));
  expect(error).toBeUndefined();
  expect(value?.exitCode).toBe(0);
  expect(isAlive(childPid())).toBe(false);
});

test("64 MB of output streams to the log file without growing memory", async () => {
  const { handler } = makeHandler();
  // Collecting while sampling measures what the handler keeps, not how lazy
  // the collector is: without it, garbage pipe chunks alone show as ~20 MB.
  const live = () => {
    Bun.gc(true);
    const m = process.memoryUsage();
    return { rss: m.rss, kept: m.heapUsed + m.arrayBuffers };
  };
  const before = live();
  let peak = before;
  const sampler = setInterval(() => {
    const now = live();
    peak = { rss: Math.max(peak.rss, now.rss), kept: Math.max(peak.kept, now.kept) };
  }, 20);
  const { value, error } = await runJob(handler, makeJob({ prompt: "fake:big=64MB", cwd }));
  clearInterval(sampler);
  expect(error).toBeUndefined();
  expect(value?.result).toBe("echo: fake:big=64MB");
  expect(statSync(value!.stdoutLog as string).size).toBeGreaterThan(64 << 20);
  // Buffering the output would keep at least its size; streaming keeps a few
  // pipe buffers and one line. (Measured: ~2 MB kept, ~22 MB RSS, mostly fixed costs.)
  expect(peak.kept - before.kept).toBeLessThan(8 << 20);
  expect(peak.rss - before.rss).toBeLessThan(32 << 20);
}, 60_000);

test("a timeout longer than setTimeout's range does not stop the run at once", async () => {
  // A payload's timeout is refused past 24d at enqueue (claude-payload tests); a library's defaultTimeoutMs is not.
  const { handler } = makeHandler({ defaultTimeoutMs: 30 * 86_400_000 });
  const { value, error } = await runJob(handler, makeJob({ prompt: "fake:sleep=300ms", cwd }));
  expect(error).toBeUndefined();
  expect(value?.result).toBe("echo: fake:sleep=300ms");
});
