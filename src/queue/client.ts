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
  validateEnqueue, validateId, validateKindName, validateQueueName, validateStatus, type EnqueueParams,
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

export interface Stats extends jobs.StatusCounts {
  total: number;
  queues: jobs.QueueCounts[];
}

const STAT_KEYS = ["queued", "scheduled", "running", "finished", "failed", "cancelled"] as const;

export class Queue {
  readonly sql: Sql;
  private readonly definitions: Map<string, HandlerDefinition>;

  constructor(sql: Sql, options: QueueOptions = {}) {
    this.sql = sql;
    this.definitions = new Map(builtinValidators());
    for (const [kind, handler] of Object.entries(options.handlers ?? {})) this.definitions.set(kind, toDefinition(handler));
  }

  /** Enqueues one job; durable when it returns. Pass `tx` to enqueue inside your own transaction. */
  async enqueue(params: EnqueueParams, options: { tx?: Queryable } = {}): Promise<string> {
    const row = validateEnqueue(params, this.definitions);
    await this.resolveResume(options.tx ?? this.sql, [row]);
    await jobs.jobInsertMany(options.tx ?? this.sql, [row]);
    return row.id;
  }

  /** Enqueues many jobs in one statement: all or none. Validates every job before writing any. */
  async enqueueMany(list: EnqueueParams[], options: { tx?: Queryable } = {}): Promise<string[]> {
    const rows = list.map((params, i) => {
      try {
        return validateEnqueue(params, this.definitions);
      } catch (e: unknown) {
        if (e instanceof InputError) throw new InputError(`jobs[${i}].${e.field}`, e.message.slice(e.field.length + 2));
        throw e;
      }
    });
    if (rows.length === 0) return [];
    await this.resolveResume(options.tx ?? this.sql, rows, (i) => `jobs[${i}].payload.resume`);
    await jobs.jobInsertMany(options.tx ?? this.sql, rows);
    return rows.map((r) => r.id);
  }

  /**
   * A Claude job may name the job whose session it continues: `resume` holding
   * the id of an existing job becomes that job's recorded session id. A job
   * that has none yet is an InputError; a UUID that is no job's id is taken
   * as a session id, as given.
   */
  private async resolveResume(db: Queryable, rows: jobs.JobInsert[], field = (_i: number) => "payload.resume"): Promise<void> {
    for (const [i, row] of rows.entries()) {
      const resume = row.kind === "claude" ? row.payload.resume : undefined;
      if (typeof resume !== "string") continue;
      const earlier = await jobs.jobGet(db, resume);
      if (!earlier) continue;
      const sessionId = earlier.result?.sessionId;
      if (typeof sessionId !== "string" || sessionId === "") {
        throw new InputError(field(i), `job ${resume} has no Claude session yet (it is ${earlier.status}); ` +
          "resume it once it has run, or give a session id");
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

  async retry(id: string): Promise<JobRecord> {
    return this.transition(id, jobs.jobRetry, "failed or cancelled jobs can be retried");
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
function validateListStatus(field: string, value: unknown): JobStatus | "scheduled" {
  if (value === "scheduled") return value;
  try {
    return validateStatus(field, value);
  } catch {
    throw new InputError(field, `must be one of queued, scheduled, running, finished, failed, cancelled; got ${JSON.stringify(value)}`);
  }
}

export type { JobStatus };
