// Typed wrappers around sql/queries/job_*.sql. The only module that sends job
// SQL to the driver; everything above it speaks JobRecord.

import type { Queryable, Sql } from "./connect.ts";
import type { AttemptError, JobRecord, JobStatus } from "../handlers/types.ts";
import insertMany from "../../sql/queries/job_insert_many.sql" with { type: "text" };
import insertUnique from "../../sql/queries/job_insert_unique.sql" with { type: "text" };
import uniqueHolders from "../../sql/queries/job_unique_holders.sql" with { type: "text" };
import lockParents from "../../sql/queries/job_lock_parents.sql" with { type: "text" };
import depsInsert from "../../sql/queries/job_deps_insert.sql" with { type: "text" };
import dependencies from "../../sql/queries/job_dependencies.sql" with { type: "text" };
import claimAny from "../../sql/queries/job_claim_any.sql" with { type: "text" };
import claimQueues from "../../sql/queries/job_claim_queues.sql" with { type: "text" };
import completeMany from "../../sql/queries/job_complete_many.sql" with { type: "text" };
import rescue from "../../sql/queries/job_rescue.sql" with { type: "text" };
import ownershipCheck from "../../sql/queries/job_ownership_check.sql" with { type: "text" };
import getOne from "../../sql/queries/job_get.sql" with { type: "text" };
import stats from "../../sql/queries/job_stats.sql" with { type: "text" };
import cancel from "../../sql/queries/job_cancel.sql" with { type: "text" };
import retry from "../../sql/queries/job_retry.sql" with { type: "text" };
import runNow from "../../sql/queries/job_run_now.sql" with { type: "text" };
import deleteOne from "../../sql/queries/job_delete.sql" with { type: "text" };
import progress from "../../sql/queries/job_progress.sql" with { type: "text" };
import runningOfWorker from "../../sql/queries/job_running_of_worker.sql" with { type: "text" };

type Row = Record<string, unknown>;

async function run(sql: Queryable, text: string, params: unknown[]): Promise<Row[]> {
  // Prepared: the plans of these statements are reused across calls.
  return (await sql.unsafe(text, params as never[], { prepare: true })) as unknown as Row[];
}

export function rowToJob(row: Row): JobRecord {
  return {
    id: row.id as string,
    kind: row.kind as string,
    queue: row.queue as string,
    priority: row.priority as number,
    status: row.status as JobStatus,
    payload: row.payload as Record<string, unknown>,
    runAt: row.run_at as Date,
    attempts: row.attempts as number,
    maxAttempts: row.max_attempts as number,
    concurrencyKey: (row.concurrency_key as string | null) ?? null,
    concurrencyLimit: (row.concurrency_limit as number | undefined) ?? 1,
    uniqueKey: (row.unique_key as string | null) ?? null,
    scheduleName: (row.schedule_name as string | null) ?? null,
    scheduleSlot: (row.schedule_slot as Date | null) ?? null,
    workerId: (row.worker_id as number | null) ?? null,
    error: (row.error as string | null) ?? null,
    errors: (row.errors as AttemptError[]) ?? [],
    result: (row.result as Record<string, unknown> | null) ?? null,
    cancelRequestedAt: (row.cancel_requested_at as Date | null) ?? null,
    createdAt: row.created_at as Date,
    startedAt: (row.started_at as Date | null) ?? null,
    finishedAt: (row.finished_at as Date | null) ?? null,
  };
}

export interface JobInsert {
  id: string;
  kind: string;
  queue: string;
  priority: number;
  payload: Record<string, unknown>;
  runAt: Date | null;
  delayMs: number;
  maxAttempts: number;
  concurrencyKey: string | null;
  concurrencyLimit: number;
  /** The states in which the key keeps others out (always waiting, queued, running); null with no key. */
  uniqueKey: string | null;
  uniqueStates: JobStatus[] | null;
  /** Jobs this one waits for: ids (resolved by the client before insert). */
  after: string[];
  /** 'waiting' while some job in `after` has not finished. */
  status: "queued" | "waiting";
}

function insertParams(jobs: JobInsert[]): unknown[] {
  return [
    jobs.map((j) => j.id),
    jobs.map((j) => j.kind),
    jobs.map((j) => j.queue),
    jobs.map((j) => j.priority),
    jobs.map((j) => JSON.stringify(j.payload)),
    jobs.map((j) => (j.runAt ? j.runAt.toISOString() : null)),
    jobs.map((j) => j.delayMs),
    jobs.map((j) => j.maxAttempts),
    jobs.map((j) => j.concurrencyKey),
    jobs.map((j) => j.concurrencyLimit),
    jobs.map((j) => j.status),
  ];
}

/** Inserts jobs without unique keys, in one statement. */
export async function jobInsertMany(sql: Queryable, jobs: JobInsert[]): Promise<void> {
  await run(sql, insertMany, insertParams(jobs));
}

/**
 * Inserts jobs, some with unique keys, in one statement. Returns the ids that
 * were inserted: a job whose key was held is left out.
 */
export async function jobInsertUnique(sql: Queryable, jobs: JobInsert[]): Promise<Set<string>> {
  const rows = await run(sql, insertUnique, [
    ...insertParams(jobs),
    jobs.map((j) => j.uniqueKey),
    jobs.map((j) => (j.uniqueStates ? `{${j.uniqueStates.join(",")}}` : null)),
  ]);
  return new Set(rows.map((r) => r.id as string));
}

/** The jobs holding these unique keys now, by key. */
export async function jobUniqueHolders(sql: Queryable, keys: string[]): Promise<Map<string, { id: string; status: JobStatus }>> {
  const rows = await run(sql, uniqueHolders, [keys]);
  return new Map(rows.map((r) => [r.unique_key as string, { id: r.id as string, status: r.status as JobStatus }]));
}

/** Locks the parents of a job about to be inserted and marks them; their statuses and sessions by id (missing ids absent). */
export async function jobLockParents(sql: Queryable, ids: string[]): Promise<Map<string, { status: JobStatus; sessionId: string | null }>> {
  const rows = await run(sql, lockParents, [ids]);
  return new Map(rows.map((r) => [r.id as string, { status: r.status as JobStatus, sessionId: (r.session_id as string | null) || null }]));
}

/** A job on either side of a dependency, as the job page and `show` list it. */
export interface RelatedJob {
  id: string;
  kind: string;
  status: JobStatus;
  runAt: Date;
  /** The first 200 characters of a Claude job's prompt; null for other kinds. */
  prompt: string | null;
}

export interface JobDependencies {
  /** What the job waits (or waited) for. */
  parents: RelatedJob[];
  /** What waits (or waited) for the job. */
  dependents: RelatedJob[];
}

/** At most `limit` of each. */
export async function jobDependencies(sql: Queryable, id: string, limit = 100): Promise<JobDependencies> {
  const rows = await run(sql, dependencies, [id, limit]);
  const related = (r: Row): RelatedJob => ({
    id: r.id as string, kind: r.kind as string, status: r.status as JobStatus, runAt: r.run_at as Date, prompt: (r.prompt as string | null) ?? null,
  });
  return {
    parents: rows.filter((r) => r.relation === "parent").map(related),
    dependents: rows.filter((r) => r.relation === "dependent").map(related),
  };
}

export async function jobDepsInsert(sql: Queryable, jobId: string, parentIds: string[]): Promise<void> {
  await run(sql, depsInsert, [jobId, parentIds]);
}

export interface ClaimParams {
  workerId: number;
  /** Queues in serving order; null means every queue. */
  queues: string[] | null;
  /** The kinds this worker has handlers for. */
  kinds: string[];
  limit: number;
  /** The backend pid of the session that holds the worker's lock; the claim runs there. */
  lockBackendPid: number;
}

/**
 * Claims up to `limit` due jobs for this worker. Must run on the worker's lock
 * session (src/worker/lock.ts), which is set up for it: one statement, no
 * transaction around it (postgres.js answers a connection lost inside a
 * transaction with a ROLLBACK written to the dead socket, which throws from a
 * timer), and the planner settings the claim needs set once for the session.
 */
export async function jobClaim(lockSession: Sql, p: ClaimParams): Promise<JobRecord[]> {
  const [text, params] = p.queues === null
    ? [claimAny, [p.workerId, p.limit, p.kinds, p.lockBackendPid]]
    : [claimQueues, [p.workerId, p.queues, p.limit, p.kinds, p.lockBackendPid]];
  return (await run(lockSession, text, params)).map(rowToJob);
}

/**
 * The lock session's settings for the claim. The claim must walk the partial
 * index in order and stop at LIMIT. A burst of enqueues into a table last
 * analyzed when it held few queued jobs makes the planner expect a handful of
 * rows and choose "fetch all due, then sort", which costs O(backlog) per
 * claim. Sorting is off on this session, which runs nothing but claims and
 * lock checks, so the ordered index scan is the plan whatever the statistics
 * say; so is JIT, which the disabled sort's huge cost would otherwise trigger
 * (a quarter-second compilation). Measured with bench W2 on a fresh backlog
 * of 10,000: about 1,200 jobs/s without this, 3,400-3,800 with it.
 */
export const CLAIM_SESSION_SETTINGS = "SET enable_sort = off; SET jit = off";

export type FinalStatus = "finished" | "failed" | "cancelled" | "queued";

export interface Completion {
  id: string;
  attempt: number;
  status: FinalStatus;
  error: string | null;
  result: Record<string, unknown> | null;
  retryInMs: number;
  /** The attempt does not count against max_attempts (stopped by shutdown). */
  refund: boolean;
}

/**
 * A result as PostgreSQL's jsonb takes it: no \u0000 escapes (jsonb refuses
 * NUL), and something written even when the handler's value cannot be
 * serialized (a BigInt, a cycle); otherwise the whole batch would fail forever.
 */
function resultJson(result: Record<string, unknown>): string {
  let text: string;
  try {
    text = JSON.stringify(result);
  } catch (e: unknown) {
    return JSON.stringify({ unserializable_result: (e as Error).message });
  }
  // Drop \u0000 escapes, keeping an escaped backslash followed by "u0000".
  return text.replace(/(?<!\\)((?:\\\\)*)\\u0000/g, "$1");
}

/** Merges progress into a running attempt's result, fenced like a completion. */
export async function jobProgress(
  sql: Queryable,
  p: { id: string; workerId: number; attempt: number; patch: Record<string, unknown> },
): Promise<void> {
  await run(sql, progress, [p.id, p.workerId, p.attempt, resultJson(p.patch)]);
}

/** Writes outcomes, fenced on (worker, attempt, running). Returns the ids written. */
export async function jobCompleteMany(sql: Queryable, workerId: number, done: Completion[]): Promise<Set<string>> {
  const rows = await run(sql, completeMany, [
    workerId,
    done.map((c) => c.id),
    done.map((c) => c.attempt),
    done.map((c) => c.status),
    done.map((c) => (c.error === null ? null : c.error.replaceAll("\u0000", ""))),
    done.map((c) => (c.result === null ? null : resultJson(c.result))),
    done.map((c) => c.retryInMs),
    done.map((c) => (c.refund ? 1 : 0)),
  ]);
  return new Set(rows.map((r) => r.id as string));
}

/** A worker whose lock is missing but whose grace has not run out (job_rescue.sql). */
export interface RescueSuspect {
  workerId: number;
  pid: number | null;
  pidSpace: string | null;
  pidStart: string | null;
  ownerToken: string | null;
  /** When its jobs may be rescued without proof of its death. */
  dueInMs: number;
}

export interface RescueOutcome {
  rescued: { id: string; status: JobStatus; queue: string; workerId: number }[];
  suspects: RescueSuspect[];
}

/** Rescues the jobs of dead workers; `certainlyDead`: workers the caller saw gone on its own host. */
export async function jobRescue(sql: Queryable, certainlyDead: number[] = []): Promise<RescueOutcome> {
  const rows = await run(sql, rescue, [certainlyDead]);
  const out: RescueOutcome = { rescued: [], suspects: [] };
  for (const r of rows) {
    if (r.rescued) {
      out.rescued.push({ id: r.id as string, status: r.status as JobStatus, queue: r.queue as string, workerId: r.worker_id as number });
    } else {
      out.suspects.push({
        workerId: r.worker_id as number, pid: (r.pid as number | null) ?? null, pidSpace: (r.pid_space as string | null) ?? null,
        pidStart: (r.pid_start as string | null) ?? null, ownerToken: (r.owner_token as string | null) ?? null,
        dueInMs: Number(r.due_in_ms),
      });
    }
  }
  return out;
}

/** The attempts the database says a worker runs. */
export async function jobRunningOfWorker(sql: Queryable, workerId: number): Promise<{ id: string; attempt: number }[]> {
  return (await run(sql, runningOfWorker, [workerId])).map((r) => ({ id: r.id as string, attempt: r.attempts as number }));
}

/** Of the attempts a worker runs, those it must stop: cancelled, or no longer its own. */
export async function jobOwnershipCheck(sql: Queryable, workerId: number, running: { id: string; attempt: number }[]) {
  if (running.length === 0) return [];
  const rows = await run(sql, ownershipCheck, [workerId, running.map((r) => r.id), running.map((r) => r.attempt)]);
  return rows.map((r) => ({ id: r.id as string, cancelled: r.cancelled as boolean }));
}

export async function jobGet(sql: Queryable, id: string): Promise<JobRecord | null> {
  const [row] = await run(sql, getOne, [id]);
  return row ? rowToJob(row) : null;
}

/** Counts by status: `queued` is due now, `scheduled` is queued for later. */
export interface StatusCounts {
  /** Waiting for the jobs they were enqueued after. */
  waiting: number;
  queued: number;
  scheduled: number;
  running: number;
  finished: number;
  failed: number;
  cancelled: number;
}

export interface QueueCounts extends StatusCounts {
  queue: string;
}

export async function jobStats(sql: Queryable): Promise<QueueCounts[]> {
  return (await run(sql, stats, [])).map((r) => ({ ...r }) as unknown as QueueCounts);
}

async function oneOrNull(sql: Queryable, text: string, id: string): Promise<JobRecord | null> {
  const [row] = await run(sql, text, [id]);
  return row ? rowToJob(row) : null;
}

export const jobCancel = (sql: Queryable, id: string) => oneOrNull(sql, cancel, id);
export const jobRetry = (sql: Queryable, id: string) => oneOrNull(sql, retry, id);
export const jobRunNow = (sql: Queryable, id: string) => oneOrNull(sql, runNow, id);
export async function jobDelete(sql: Queryable, id: string): Promise<boolean> {
  return (await run(sql, deleteOne, [id])).length > 0;
}
