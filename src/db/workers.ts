// Typed wrappers around sql/queries/worker_*.sql.

import type { Queryable } from "./connect.ts";
import register from "../../sql/queries/worker_register.sql" with { type: "text" };
import lock from "../../sql/queries/worker_lock.sql" with { type: "text" };
import stop from "../../sql/queries/worker_stop.sql" with { type: "text" };
import relock from "../../sql/queries/worker_relock.sql" with { type: "text" };
import lockHolderEnd from "../../sql/queries/worker_lock_holder_end.sql" with { type: "text" };
import listLive from "../../sql/queries/worker_list_live.sql" with { type: "text" };
import unserved from "../../sql/queries/job_unserved.sql" with { type: "text" };

export interface WorkerInfo {
  id: number;
  host: string;
  pid: number;
  queues: string[];
  concurrency: number;
  version: string;
  startedAt: Date;
  runningJobIds: string[];
  /** The kinds it has handlers for; null for a worker of an older version. */
  kinds: string[] | null;
}

/** What a worker says of itself when it registers (see 003_liveness.sql for the liveness fields). */
export interface WorkerRegistration {
  host: string;
  pid: number;
  queues: string[];
  concurrency: number;
  version: string;
  rescueGraceMs: number;
  pidSpace: string | null;
  pidStart: string | null;
  ownerToken: string | null;
  /** The job kinds it has handlers for. */
  kinds: string[];
}

export async function workerRegister(sql: Queryable, w: WorkerRegistration): Promise<number> {
  const [row] = await sql.unsafe(register, [
    w.host, w.pid, w.queues, w.concurrency, w.version, w.rescueGraceMs, w.pidSpace, w.pidStart, w.ownerToken, w.kinds,
  ] as never[]);
  return row!.id as number;
}

/** Counts the worker's lock generation up; run on the new lock session once the lock is taken. */
export async function workerRelock(sql: Queryable, workerId: number): Promise<number> {
  const [row] = await sql.unsafe(relock, [workerId] as never[]);
  return row!.generation as number;
}

/** Ends our own earlier session that still holds the worker's lock; whether one was ended. */
export async function workerLockHolderEnd(sql: Queryable, workerId: number): Promise<boolean> {
  const rows = await sql.unsafe(lockHolderEnd, [workerId] as never[]);
  return rows.length > 0;
}

/** Takes the worker's session lock; must run on the worker's reserved connection. */
export async function workerLock(sql: Queryable, workerId: number): Promise<boolean> {
  const [row] = await sql.unsafe(lock, [workerId] as never[]);
  return row!.locked as boolean;
}

export async function workerStop(sql: Queryable, workerId: number): Promise<void> {
  await sql.unsafe(stop, [workerId] as never[]);
}

export async function workerListLive(sql: Queryable): Promise<WorkerInfo[]> {
  const rows = await sql.unsafe(listLive);
  return rows.map((r) => ({
    id: r.id as number,
    host: r.host as string,
    pid: r.pid as number,
    queues: r.queues as string[],
    concurrency: r.concurrency as number,
    version: r.version as string,
    startedAt: r.started_at as Date,
    runningJobIds: r.running_job_ids as string[],
    kinds: (r.kinds as string[] | null) ?? null,
  }));
}

/** Queued jobs, by queue and kind, that no live worker would claim (no handler for the kind on a worker serving the queue). */
export async function jobUnserved(sql: Queryable): Promise<{ queue: string; kind: string; jobs: number }[]> {
  const rows = await sql.unsafe(unserved);
  return rows.map((r) => ({ queue: r.queue as string, kind: r.kind as string, jobs: r.jobs as number }));
}

/** Whether some live worker serves `queue` with a handler for `kind` (for a warning at enqueue). */
export function workersServe(workers: WorkerInfo[], queue: string, kind: string): boolean {
  return workers.some((w) => (w.queues.includes("*") || w.queues.includes(queue)) && (w.kinds === null || w.kinds.includes(kind)));
}
