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

/** Starts a worker process and waits until it has taken its lock and is claiming. */
export async function startWorkerProcess(url: string, env: Record<string, string> = {}): Promise<WorkerProcess> {
  const child = spawnChild([process.execPath, SCRIPT], { ...process.env, DATABASE_URL: url, ...env });
  const ready = await Promise.race([
    waitFor("the worker process to be ready", () => child.stdout().match(/\{"ready":\d+.*\}/)?.[0], { timeoutMs: 15_000 }),
    child.exited.then((code) => { throw new Error(`worker process exited ${code}: ${child.stderr()}`); }),
  ]);
  const { ready: workerId, pid } = JSON.parse(ready) as { ready: number; pid: number };
  return { ...child, workerId, pid };
}

/** Kills what is still running; for afterEach. */
export async function killAll(children: WorkerProcess[]): Promise<void> {
  for (const c of children.splice(0)) {
    c.proc.kill("SIGKILL");
    await c.exited;
  }
}
