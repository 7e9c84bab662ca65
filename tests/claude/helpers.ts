// End-to-end Claude job tests: a real worker (the CLI worker process, or an
// in-process Worker with createClaudeHandler) running the fake claude from
// tests/fixtures, against a real database. Workers started here are stopped
// by stopAll(); the caller drops its database.

import { setDefaultTimeout } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Sql } from "../../src/db/connect.ts";
import { createClaudeHandler, type ClaudeHandlerOptions } from "../../src/handlers/claude/index.ts";
import type { JobRecord } from "../../src/handlers/types.ts";
import { Queue } from "../../src/queue/client.ts";
import type { Worker } from "../../src/worker/worker.ts";
import { cliEnv, spawnCli, tempDir } from "../helpers/cli.ts";
import { WorkerPool, type Child } from "../helpers/engine.ts";
import { waitFor } from "../helpers/wait.ts";
import { fakeEnv, FAKE_CLAUDE, FAKE_PASS_ENV, isAlive } from "../handlers/claude-helpers.ts";

export { FAKE_CLAUDE, isAlive, tempDir };

// These tests start processes (workers, CLIs, fake claudes) on machines that
// may be busy; bun's 5s default is too short for that, whatever bunfig says.
setDefaultTimeout(60_000);

export const FINAL = ["finished", "failed", "cancelled"];

/** Waits until the job matches `done` (by default: a final state) and returns it. */
export function waitForJob(queue: Queue, id: string, done = (j: JobRecord) => FINAL.includes(j.status), timeoutMs = 20_000): Promise<JobRecord> {
  return waitFor(`job ${id} to reach the expected state`, async () => {
    const job = await queue.get(id);
    return done(job) ? job : undefined;
  }, { timeoutMs });
}

/** Reads a pid the fake wrote to its FAKE_CLAUDE_PIDFILE, once it is there. */
export function waitForPid(pidFile: string): Promise<number> {
  return waitFor(`the fake's child pid in ${pidFile}`, () => {
    try {
      return Number(readFileSync(pidFile, "utf8")) || undefined;
    } catch {
      return undefined;
    }
  });
}

/** The peak resident set of a live process (VmHWM), in MB. */
export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = /^VmHWM:\s+(\d+) kB/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmHWM for pid ${pid}`);
  return Number(kb) / 1024;
}

/** In-process workers running the Claude handler against the fake CLI, each on its own queue. */
export class ClaudeWorkers {
  readonly pool = new WorkerPool();

  async start(sql: Sql, o: { queue: string; concurrency?: number; handler?: ClaudeHandlerOptions; env?: Record<string, string> }): Promise<{ worker: Worker; logDir: string }> {
    const logDir = o.handler?.logDir ?? tempDir("claude-e2e-logs-");
    const handler = createClaudeHandler({ logDir, killGraceMs: 1000, env: fakeEnv(o.env), passEnv: FAKE_PASS_ENV, ...o.handler });
    const worker = await this.pool.start({ sql, handlers: { claude: handler }, queues: [o.queue], concurrency: o.concurrency ?? 4 });
    return { worker, logDir };
  }

  stopAll(): Promise<void> {
    return this.pool.stopAll(5000);
  }
}

export interface CliWorker extends Child {
  pid: number;
  logDir: string;
  env: Record<string, string>;
  /** SIGTERM, then the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number>;
}

/**
 * `claude-jobs worker` as its own process, with the fake claude (by
 * --claude-path) and a private log folder; resolves once it has started.
 */
export async function startCliWorker(url: string, args: string[] = [], extraEnv: Record<string, string> = {}): Promise<CliWorker> {
  const logDir = tempDir("claude-e2e-cli-logs-");
  const env = cliEnv({ DATABASE_URL: url, ...extraEnv });
  // The worker passes the CLI only an allow-list of its environment: the fake's own knobs (FAKE_CLAUDE_*) are asked for by name.
  const child = spawnCli(["worker", `--log-dir=${logDir}`, `--claude-path=${FAKE_CLAUDE}`, "--pass-env=FAKE_CLAUDE_*", "--poll-interval=200ms",
    "--rescue-interval=1s", "--kill-grace=1s", ...args], env);
  await Promise.race([
    waitFor("the CLI worker to start", () => /worker \d+ started/.test(child.stderr()), { timeoutMs: 15_000 }),
    child.exited.then((code) => { throw new Error(`the CLI worker exited ${code}: ${child.stderr()}`); }),
  ]);
  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    if (child.proc.exitCode === null) child.proc.kill(signal);
    return child.exited;
  };
  return { ...child, pid: child.proc.pid, logDir, env, stop };
}

/** Kills CLI workers still running (a failed test), for afterEach. */
export async function killCliWorkers(workers: CliWorker[]): Promise<void> {
  for (const w of workers.splice(0)) {
    if (w.proc.exitCode === null) w.proc.kill("SIGKILL");
    await w.exited;
  }
}

export function pidFileIn(dir: string): string {
  return join(dir, "child.pid");
}
