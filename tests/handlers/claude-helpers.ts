// Shared pieces of the Claude handler tests: a hand-built JobRecord, a handler
// wired to the fake CLI in tests/fixtures, temp folders, and process checks.
// Needs no database.

import { mkdtempSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createClaudeHandler, type ClaudeHandlerOptions } from "../../src/handlers/claude/index.ts";
import type { JobRecord } from "../../src/handlers/types.ts";

export const FIXTURES = resolve(import.meta.dir, "../fixtures");
export const FAKE_CLAUDE = join(FIXTURES, "fake-claude");

export function tempDir(prefix = "claude-handler-"): string {
  return realpathSync(mkdtempSync(join(tmpdir(), prefix)));
}

/**
 * A folder holding `claude`, to put first on PATH: a script that runs the fake
 * with this Bun by its absolute path, so that it works whatever PATH the child
 * is given (the fake's own `#!/usr/bin/env bun` needs Bun on that PATH).
 */
export const FAKE_BIN = tempDir("claude-bin-");
export const FAKE_CLAUDE_ANY_PATH = join(FAKE_BIN, "claude");
writeFileSync(FAKE_CLAUDE_ANY_PATH, `#!/bin/sh\nexec '${process.execPath}' '${FAKE_CLAUDE}' "$@"\n`, { mode: 0o755 });

/**
 * A key for the fake only: like the real CLI, the fake needs credentials to
 * get past its first API call, and takes any key (it calls no API).
 */
export const FAKE_API_KEY = "sk-ant-dummy-key-for-the-fake-claude";

/**
 * The child's environment: the fake first on PATH, a private HOME (where the
 * fake keeps its sessions), a dummy key, and IS_SANDBOX=1 because this machine
 * runs tests as root.
 */
export function fakeEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: `${FAKE_BIN}:${process.env.PATH ?? "/usr/bin:/bin"}`, HOME: tempDir("claude-home-"), IS_SANDBOX: "1",
    ANTHROPIC_API_KEY: FAKE_API_KEY, ...extra,
  };
}

/**
 * The fake's own knobs (FAKE_CLAUDE_PIDFILE, _ARGV_FILE, ...): the handler
 * passes the CLI only an allow-list of the environment it is given, plus these.
 */
export const FAKE_PASS_ENV = ["FAKE_CLAUDE_*"];

export function makeHandler(options: ClaudeHandlerOptions = {}) {
  const logDir = options.logDir ?? tempDir("claude-logs-");
  const handler = createClaudeHandler({ logDir, env: fakeEnv(), killGraceMs: 1000, passEnv: FAKE_PASS_ENV, ...options });
  return { handler, logDir };
}

export function makeJob(payload: Record<string, unknown>, overrides: Partial<JobRecord> = {}): JobRecord {
  return {
    id: crypto.randomUUID(), kind: "claude", queue: "default", priority: 0, status: "running", payload,
    runAt: new Date(), attempts: 1, maxAttempts: 3, concurrencyKey: null, concurrencyLimit: 1, uniqueKey: null, scheduleName: null, scheduleSlot: null, workerId: 1, error: null, errors: [],
    result: null, cancelRequestedAt: null, createdAt: new Date(), startedAt: new Date(), finishedAt: null,
    ...overrides,
  };
}

/** Runs the handler to its outcome: { value } or { error }. */
export async function runJob(
  handler: ReturnType<typeof createClaudeHandler>,
  job: JobRecord,
  signal = new AbortController().signal,
  progress?: (patch: Record<string, unknown>) => void,
): Promise<{ value?: Record<string, unknown>; error?: Error & { result?: Record<string, unknown>; delaySeconds?: number } }> {
  try {
    const value = (await handler.run({ job, signal, progress })) ?? {};
    return { value };
  } catch (error: unknown) {
    return { error: error as Error };
  }
}

/**
 * Whether a process is alive. A zombie counts as dead: this machine's PID 1
 * never reaps orphans, so a killed grandchild stays a zombie (and
 * process.kill(pid, 0) keeps succeeding) although it has stopped.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e: unknown) {
    if ((e as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw e;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0] ?? "");
  } catch {
    return false;
  }
}

/** Polls until `check` is true (tests wait for events, not fixed sleeps). */
export async function waitFor(check: () => boolean, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}
