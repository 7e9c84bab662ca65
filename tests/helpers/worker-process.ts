// Workers in child processes (tests/engine/fixtures/worker-process.ts) and the
// table they record their runs in.

import { join } from "node:path";
import type { Sql } from "../../src/db/connect.ts";
import { REPO, spawnChild, type Child } from "./engine.ts";
import { waitFor } from "./wait.ts";

const SCRIPT = join(REPO, "tests/engine/fixtures/worker-process.ts");

export interface WorkerProcess extends Child {
  workerId: number;
  pid: number;
}

export async function createRunsTable(sql: Sql): Promise<void> {
  await sql`CREATE TABLE IF NOT EXISTS test_runs (
    job_id uuid NOT NULL, attempt int NOT NULL, pid int NOT NULL,
    started_at timestamptz NOT NULL, ended_at timestamptz)`;
}

export interface StartOptions {
  /** The worker script (default tests/engine/fixtures/worker-process.ts); it prints {"ready":workerId,...} once claiming. */
  script?: string;
  /** Start from this test's environment (default); false: only DATABASE_URL and `env` (a credential-free child). */
  inheritEnv?: boolean;
  /** Where the readiness line is waited for (default 15 s). */
  timeoutMs?: number;
}

/** Starts a worker process and waits until it has taken its lock and is claiming. */
export async function startWorkerProcess(url: string, env: Record<string, string> = {}, options: StartOptions = {}): Promise<WorkerProcess> {
  const base = options.inheritEnv === false ? {} : process.env;
  const child = spawnChild([process.execPath, options.script ?? SCRIPT], { ...base, DATABASE_URL: url, ...env });
  let ready: string;
  try {
    ready = await Promise.race([
      waitFor("the worker process to be ready", () => child.stdout().match(/\{"ready":\d+.*\}/)?.[0], { timeoutMs: options.timeoutMs ?? 15_000 }),
      child.exited.then((code) => { throw new Error(`worker process exited ${code}: ${child.stderr()}`); }),
    ]);
  } catch (e: unknown) {
    child.proc.kill("SIGKILL"); // one that never got ready is not left running
    await child.exited;
    throw e;
  }
  const { ready: workerId, pid } = JSON.parse(ready) as { ready: number; pid?: number };
  return { ...child, workerId, pid: pid ?? child.proc.pid };
}

/** Kills what is still running; for afterEach. */
export async function killAll(children: WorkerProcess[]): Promise<void> {
  for (const c of children.splice(0)) {
    c.proc.kill("SIGKILL");
    await c.exited;
  }
}
