// The client API: what a program (or the CLI, or the dashboard) does to the
// queue. Validates input, then calls the typed query wrappers. Knows nothing
// of workers' internals.

import type { Queryable, Sql } from "../db/connect.ts";
import * as jobs from "../db/jobs.ts";
import { workerListLive, type WorkerInfo } from "../db/workers.ts";
import { dashJobList } from "../db/dashboard.ts";
import { decodeCursor, encodeCursor, pageOf } from "./cursor.ts";
import { ConflictError, InputError, NotFoundError } from "../errors.ts";
import type { Handler, HandlerDefinition, JobRecord, JobStatus } from "../handlers/types.ts";
import { toDefinition } from "../handlers/types.ts";
import { builtinValidators } from "../handlers/registry.ts";
import {
  validateAfter, validateEnqueue, validateId, validateKindName, validateQueueName, validateStatus, type EnqueueParams,
} from "./validate.ts";

export type { EnqueueParams };

export interface QueueOptions {
  /** Handlers (or just their validate/concurrencyKey) by kind, used to check payloads at enqueue. */
  handlers?: Record<string, Handler>;
}

export interface ListFilter {
  status?: string;
  queue?: string;
  kind?: string;
  /** Keyset cursor from the previous page's `next`. */
  cursor?: string;
  limit?: number;
}

/** What became of one enqueued job. */
export interface EnqueueOutcome {
  /** The new job's id; for a duplicate, the id of the job holding the unique key. */
  id: string;
  /** The unique key was held: nothing was inserted. */
  duplicate: boolean;
  /** The job's status: queued, or waiting (for the jobs in `after`); for a duplicate, the holder's. */
  status: JobStatus;
}

interface PendingRow {
  row: jobs.JobInsert;
  /** `after` as job ids, and as indexes of earlier jobs of the same call. */
  afterIds: string[];
  afterEarlier: number[];
}

export interface Stats extends jobs.StatusCounts {
  total: number;
  queues: jobs.QueueCounts[];
}

const STAT_KEYS = ["waiting", "queued", "scheduled", "running", "finished", "failed", "cancelled"] as const;

export class Queue {
  readonly sql: Sql;
  private readonly definitions: Map<string, HandlerDefinition>;

  constructor(sql: Sql, options: QueueOptions = {}) {
    this.sql = sql;
    this.definitions = new Map(builtinValidators());
    for (const [kind, handler] of Object.entries(options.handlers ?? {})) this.definitions.set(kind, toDefinition(handler));
  }

  /** Enqueues one job; durable when it returns; its id (the existing job's for a duplicate unique key). Pass `tx` to enqueue inside your own transaction. */
  async enqueue(params: EnqueueParams, options: { tx?: Queryable } = {}): Promise<string> {
    return (await this.submit(params, options)).id;
  }

  /** Enqueues many jobs in one transaction: all or none. Validates every job before writing any. */
  async enqueueMany(list: EnqueueParams[], options: { tx?: Queryable } = {}): Promise<string[]> {
    return (await this.submitMany(list, options)).map((o) => o.id);
  }

  /** enqueue, saying whether the job was inserted or its unique key was held (duplicate: the holder's id). */
  async submit(params: EnqueueParams, options: { tx?: Queryable } = {}): Promise<EnqueueOutcome> {
    return (await this.submitRows([this.validateOne(params, null)], options, (_i, field) => field))[0]!;
  }

  /** enqueueMany, with an outcome per job in order. `after` may refer to an earlier job of the list by its index. */
  async submitMany(list: EnqueueParams[], options: { tx?: Queryable } = {}): Promise<EnqueueOutcome[]> {
    if (!Array.isArray(list)) throw new InputError("jobs", "must be an array of jobs");
    const named = (i: number, field: string) => `jobs[${i}].${field}`;
    const rows = list.map((params, i) => {
      try {
        return this.validateOne(params, i);
      } catch (e: unknown) {
        if (e instanceof InputError) throw new InputError(named(i, e.field), e.message.slice(e.field.length + 2));
        throw e;
      }
    });
    if (rows.length === 0) return [];
    return this.submitRows(rows, options, named);
  }

  private validateOne(params: EnqueueParams, index: number | null): PendingRow {
    const row = validateEnqueue(params, this.definitions);
    const refs = params.after === undefined ? { ids: [], earlier: [] } : validateAfter(params.after, index);
    return { row, afterIds: refs.ids, afterEarlier: refs.earlier };
  }

  /**
   * Writes validated rows. Plain jobs (no unique key, no `after`) go in one
   * statement. Otherwise, in one transaction and in order: runs of jobs
   * without `after` in one statement each (ON CONFLICT for unique keys), and
   * each job with `after` on its own, after locking its parents.
   */
  private async submitRows(pending: PendingRow[], options: { tx?: Queryable }, field: (i: number, f: string) => string): Promise<EnqueueOutcome[]> {
    const rows = pending.map((p) => p.row);
    await this.resolveResume(options.tx ?? this.sql, pending, (i) => field(i, "payload.resume"));
    const plain = pending.every((p) => p.row.uniqueKey === null && p.afterIds.length === 0 && p.afterEarlier.length === 0);
    if (plain) {
      await jobs.jobInsertMany(options.tx ?? this.sql, rows);
      return rows.map((r) => ({ id: r.id, duplicate: false, status: "queued" }));
    }
    const write = (db: Queryable) => writeInOrder(db, pending, field);
    if (options.tx) return write(options.tx);
    return this.sql.begin((tx) => write(tx)) as Promise<EnqueueOutcome[]>;
  }

  /**
   * A Claude job may name the job whose session it continues: `resume` holding
   * the id of an existing job becomes that job's recorded session id. A job
   * it also waits for (`after`) and that has not finished is resolved when it
   * does, by the release (sql/migrations/005_flow.sql): its final session.
   * Another job that has no session yet is an InputError; a UUID that is no
   * job's id is taken as a session id, as given.
   */
  private async resolveResume(db: Queryable, pending: PendingRow[], field = (_i: number) => "payload.resume"): Promise<void> {
    for (const [i, { row, afterIds }] of pending.entries()) {
      const resume = row.kind === "claude" ? row.payload.resume : undefined;
      if (typeof resume !== "string") continue;
      const earlier = await jobs.jobGet(db, resume);
      if (!earlier) continue;
      if (afterIds.includes(earlier.id) && earlier.status !== "finished") continue;
      const sessionId = earlier.result?.sessionId;
      if (typeof sessionId !== "string" || sessionId === "") {
        throw new InputError(field(i), `job ${resume} has no Claude session yet (it is ${earlier.status}); ` +
          "resume it once it has run, give a session id, or wait for it (after) to continue its session when it finishes");
      }
      row.payload = { ...row.payload, resume: sessionId };
    }
  }

  async get(id: string): Promise<JobRecord> {
    const job = await jobs.jobGet(this.sql, validateId("id", id));
    if (!job) throw new NotFoundError(`no job with id ${id}`);
    return job;
  }

  /**
   * Jobs newest first. `status` is a column value, except that, as in stats,
   * the API and the dashboard, `queued` means queued and due now and
   * `scheduled` queued with run_at in the future. `next` is null on the last
   * page: one row more than `limit` is read to know whether there is another.
   */
  async list(filter: ListFilter = {}): Promise<{ jobs: JobRecord[]; next: string | null }> {
    const limit = filter.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new InputError("limit", `must be an integer from 1 to 1000; got ${JSON.stringify(filter.limit)}`);
    }
    const before = filter.cursor === undefined ? null : decodeCursor(filter.cursor, "the `next` value of a previous page");
    const rows = await dashJobList(this.sql, {
      status: filter.status === undefined ? null : validateListStatus("status", filter.status),
      queue: filter.queue === undefined ? null : validateQueueName("queue", filter.queue),
      kind: filter.kind === undefined ? null : validateKindName("kind", filter.kind),
      sort: "newest",
      after: before,
      limit: limit + 1,
    });
    return pageOf(rows, limit, (last) => encodeCursor(last.createdAt, last.id));
  }

  async stats(): Promise<Stats> {
    const queues = await jobs.jobStats(this.sql);
    const totals = Object.fromEntries(STAT_KEYS.map((k) => [k, queues.reduce((sum, q) => sum + q[k], 0)]));
    const total = STAT_KEYS.reduce((sum, k) => sum + (totals[k] ?? 0), 0);
    return { ...(totals as Record<(typeof STAT_KEYS)[number], number>), total, queues };
  }

  /**
   * Cancels a queued job at once, or asks a running job's worker to stop it
   * (it then ends `cancelled`). A job already in a final state is a ConflictError.
   */
  async cancel(id: string): Promise<JobRecord> {
    const job = await jobs.jobCancel(this.sql, validateId("id", id));
    if (!job) throw new NotFoundError(`no job with id ${id}`);
    if (job.status !== "cancelled" && job.status !== "running") {
      throw new ConflictError(`job ${id} is ${job.status}; only queued or running jobs can be cancelled`);
    }
    return job;
  }

  /**
   * A failed or cancelled job back to the queue (or to waiting, for parents
   * that have not finished). A job whose unique key another job holds now
   * is a ConflictError naming that job: two would hold the key.
   */
  async retry(id: string): Promise<JobRecord> {
    const checked = validateId("id", id);
    let job: JobRecord | null;
    try {
      job = await jobs.jobRetry(this.sql, checked);
    } catch (e: unknown) {
      // A holder enqueued at this very moment: the index has the last word.
      const { code, constraint_name } = e as { code?: string; constraint_name?: string };
      if (code !== "23505" || constraint_name !== "claude_jobs_unique_key") throw e;
      job = null;
    }
    if (job) return job;
    const current = await this.get(checked);
    if ((current.status === "failed" || current.status === "cancelled") && current.uniqueKey !== null) {
      const holder = (await jobs.jobUniqueHolders(this.sql, [current.uniqueKey])).get(current.uniqueKey);
      if (holder && holder.id !== current.id) {
        throw new ConflictError(`job ${id} cannot be retried: job ${holder.id} (${holder.status}) holds its unique key ${JSON.stringify(current.uniqueKey)}`);
      }
    }
    throw new ConflictError(`job ${id} is ${current.status}; only failed or cancelled jobs can be retried`);
  }

  async runNow(id: string): Promise<JobRecord> {
    return this.transition(id, jobs.jobRunNow, "queued jobs can be run now");
  }

  async delete(id: string): Promise<void> {
    const checked = validateId("id", id);
    if (await jobs.jobDelete(this.sql, checked)) return;
    const job = await this.get(checked);
    throw new ConflictError(`job ${id} is ${job.status}; cancel it before deleting it`);
  }

  /** What a job waits for, and what waits for it (at most 100 of each). */
  async dependencies(id: string): Promise<jobs.JobDependencies> {
    const checked = validateId("id", id);
    const deps = await jobs.jobDependencies(this.sql, checked);
    // Only a job with neither may be no job at all: then a NotFoundError.
    if (deps.parents.length === 0 && deps.dependents.length === 0) await this.get(checked);
    return deps;
  }

  async workers(): Promise<WorkerInfo[]> {
    return workerListLive(this.sql);
  }

  private async transition(
    id: string,
    query: (sql: Queryable, id: string) => Promise<JobRecord | null>,
    allowed: string,
  ): Promise<JobRecord> {
    const checked = validateId("id", id);
    const job = await query(this.sql, checked);
    if (job) return job;
    const current = await this.get(checked);
    throw new ConflictError(`job ${id} is ${current.status}; only ${allowed}`);
  }
}

/** A list filter's status: a job status, or `scheduled` (queued, due later). */
/** The writing half of submitRows, inside one transaction. */
async function writeInOrder(db: Queryable, pending: PendingRow[], field: (i: number, f: string) => string): Promise<EnqueueOutcome[]> {
  const outcomes: EnqueueOutcome[] = [];
  // Every existing parent of the call locked at once, in id order (as every
  // multi-row writer locks): one by one, two dependents' parents would be
  // locked in the order of the lines, against a completion's id order.
  const existing = [...new Set(pending.flatMap((p) => p.afterIds))];
  if (existing.length > 1) await jobs.jobLockParents(db, existing);
  let i = 0;
  while (i < pending.length) {
    if (pending[i]!.afterIds.length === 0 && pending[i]!.afterEarlier.length === 0) {
      let end = i;
      while (end < pending.length && pending[end]!.afterIds.length === 0 && pending[end]!.afterEarlier.length === 0) end++;
      outcomes.push(...await insertRun(db, pending.slice(i, end).map((p) => p.row)));
      i = end;
      continue;
    }
    const { row, afterIds, afterEarlier } = pending[i]!;
    // An earlier job of the call that was a duplicate stands for the job holding its key.
    const parents = [...new Set([...afterIds, ...afterEarlier.map((k) => outcomes[k]!.id)])].filter((id) => id !== row.id);
    const locked = await jobs.jobLockParents(db, parents);
    for (const [k, id] of parents.entries()) {
      const status = locked.get(id)?.status;
      const at = field(i, `after[${k}]`);
      if (status === undefined) throw new InputError(at, `no job with id ${id}`);
      if (status === "failed" || status === "cancelled") {
        throw new InputError(at, `job ${id} ${status === "failed" ? "failed" : "was cancelled"}, so a job after it would never run; retry it first, or leave it out`);
      }
    }
    row.after = parents;
    row.status = parents.every((id) => locked.get(id)!.status === "finished") ? "queued" : "waiting";
    // A Claude job continuing a parent's session whose resolution was left to
    // the release (resolveResume: the parent had not finished), but the parent
    // finished meanwhile: no release will come, so its session is taken now.
    const resume = row.kind === "claude" ? row.payload.resume : undefined;
    if (row.status === "queued" && typeof resume === "string" && locked.has(resume)) {
      const sessionId = locked.get(resume)!.sessionId;
      if (sessionId === null) throw new InputError(field(i, "payload.resume"), `job ${resume} finished without a Claude session to resume`);
      row.payload = { ...row.payload, resume: sessionId };
    }
    const [outcome] = await insertRun(db, [row]);
    if (!outcome!.duplicate) await jobs.jobDepsInsert(db, row.id, parents);
    outcomes.push(outcome!);
    i++;
  }
  return outcomes;
}

/**
 * Inserts jobs in one statement; those whose unique key is held come back as
 * duplicates of the holder. A holder may end (and let go of the key) between
 * the insert and the lookup: such a job is inserted again.
 */
async function insertRun(db: Queryable, rows: jobs.JobInsert[]): Promise<EnqueueOutcome[]> {
  if (rows.every((r) => r.uniqueKey === null)) {
    await jobs.jobInsertMany(db, rows);
    return rows.map((r) => ({ id: r.id, duplicate: false, status: r.status }));
  }
  const outcomes = new Map<string, EnqueueOutcome>();
  let left = rows;
  for (let round = 0; left.length > 0; round++) {
    if (round === 5) throw new Error(`could not enqueue: the holders of unique keys ${left.map((r) => JSON.stringify(r.uniqueKey)).join(", ")} kept changing`);
    const inserted = await jobs.jobInsertUnique(db, left);
    for (const r of left) if (inserted.has(r.id)) outcomes.set(r.id, { id: r.id, duplicate: false, status: r.status });
    const refused = left.filter((r) => !inserted.has(r.id));
    if (refused.length === 0) break;
    const holders = await jobs.jobUniqueHolders(db, [...new Set(refused.map((r) => r.uniqueKey!))]);
    left = [];
    for (const r of refused) {
      const holder = holders.get(r.uniqueKey!);
      // A job of this very batch holds it: the later one is its duplicate.
      if (holder) outcomes.set(r.id, { id: holder.id, duplicate: true, status: holder.status });
      else left.push(r);
    }
  }
  return rows.map((r) => outcomes.get(r.id)!);
}

function validateListStatus(field: string, value: unknown): JobStatus | "scheduled" {
  if (value === "scheduled") return value;
  try {
    return validateStatus(field, value);
  } catch {
    throw new InputError(field, `must be one of waiting, queued, scheduled, running, finished, failed, cancelled; got ${JSON.stringify(value)}`);
  }
}

export type { JobStatus };
