// The library API of recurring jobs: add (or replace), list, remove, pause,
// resume and run a schedule now. A schedule's job template is validated
// here exactly as Queue.enqueue validates a job (validateEnqueue, with the
// kinds' own payload rules), and stored as the row that check produced, so
// every job the scheduler inserts is what enqueueing the template gives.
// The enqueueing of due slots is the scheduler's (scheduler.ts), in workers.

import type { Sql } from "../db/connect.ts";
import * as db from "../db/schedules.ts";
import { jobGet } from "../db/jobs.ts";
import { ConflictError, InputError, NotFoundError } from "../errors.ts";
import type { Handler, HandlerDefinition, JobStatus } from "../handlers/types.ts";
import { toDefinition } from "../handlers/types.ts";
import { builtinValidators } from "../handlers/registry.ts";
import { validateEnqueue, type EnqueueParams } from "../queue/validate.ts";
import { CronSchedule } from "./cron.ts";
import { DEFAULT_MISSED, formatMissed, parseMissed, type MissedPolicy } from "./missed.ts";

export interface ScheduleParams extends Omit<EnqueueParams, "runAt" | "delay" | "after"> {
  /** 1-100 printable characters, no '/', no surrounding spaces. */
  name: string;
  /** 5-field cron, or @hourly, @daily, ... */
  expression: string;
  /** IANA time zone of the expression's wall-clock times. Default UTC. */
  timezone?: string;
  /** skip, once (default) or all:N: see missed.ts. */
  missed?: string;
}

/** A schedule as callers see it. */
export interface ScheduleInfo {
  name: string;
  expression: string;
  timezone: string;
  missed: string;
  /** What each slot enqueues (validated: the payload as the kind's rules left it). */
  job: db.ScheduleTemplate;
  paused: boolean;
  pausedAt: Date | null;
  /** The next slot the scheduler will enqueue (while not paused); null: none will come. */
  nextRunAt: Date | null;
  /** The time of the last job enqueued (its slot, or when it was run by hand). */
  lastRunAt: Date | null;
  lastJobId: string | null;
  /** Null when there is no last job, or it was deleted. */
  lastJobStatus: JobStatus | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface SchedulesOptions {
  /** Handlers (or just their validate/concurrencyKey) by kind, to check templates as an enqueue does. */
  handlers?: Record<string, Handler>;
  /** The clock that picks a new or resumed schedule's next slot; tests inject one. */
  now?: () => Date;
}

/** Fields an enqueue takes that a schedule cannot: its jobs are due at their slots, and wait for nothing. */
const REFUSED = { runAt: "run_at", delay: "delay", after: "after" } as const;

export function validateScheduleName(field: string, value: unknown): string {
  if (typeof value !== "string" || value.length < 1 || value.length > 100 || /[\p{Cc}/]/u.test(value) || value.trim() !== value || !value.isWellFormed()) {
    throw new InputError(field, `must be 1-100 characters, without control characters or '/', and without spaces at either end; got ${JSON.stringify(value)}`);
  }
  return value;
}

export function toInfo(row: db.ScheduleRow): ScheduleInfo {
  const { name, expression, timezone, pausedAt, nextRunAt, lastRunAt, lastJobId, lastJobStatus, createdAt, updatedAt } = row;
  const job: db.ScheduleTemplate = {
    kind: row.kind, queue: row.queue, priority: row.priority, payload: row.payload, maxAttempts: row.maxAttempts,
    concurrencyKey: row.concurrencyKey, concurrencyLimit: row.concurrencyLimit, uniqueKey: row.uniqueKey, uniqueStates: row.uniqueStates,
  };
  return {
    name, expression, timezone, missed: formatMissed(missedOf(row)), job, paused: pausedAt !== null, pausedAt,
    nextRunAt, lastRunAt, lastJobId, lastJobStatus, createdAt, updatedAt,
  };
}

export function missedOf(row: db.MissedColumns): MissedPolicy {
  return row.missed === "all" ? { kind: "all", limit: row.missedLimit ?? 1 } : { kind: row.missed };
}

export class Schedules {
  private readonly definitions: Map<string, HandlerDefinition>;
  private readonly now: () => Date;

  constructor(readonly sql: Sql, options: SchedulesOptions = {}) {
    this.definitions = new Map(builtinValidators());
    for (const [kind, handler] of Object.entries(options.handlers ?? {})) this.definitions.set(kind, toDefinition(handler));
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Adds a schedule, or replaces the one with that name (its expression,
   * zone, policy and template; paused stays paused). Every field is checked
   * before anything is written. `created` is false for a replacement.
   */
  async add(params: ScheduleParams): Promise<{ schedule: ScheduleInfo; created: boolean }> {
    if (params === null || typeof params !== "object") throw new InputError("schedule", "must be an object");
    const name = validateScheduleName("name", params.name);
    const cron = CronSchedule.parse(params.expression, params.timezone ?? "UTC");
    const missed = params.missed === undefined ? DEFAULT_MISSED : parseMissed("missed", params.missed);
    for (const [key, field] of Object.entries(REFUSED)) {
      if ((params as unknown as Record<string, unknown>)[key] !== undefined) {
        throw new InputError(field, "cannot be given to a schedule: its jobs are due at their slots and wait for no other job");
      }
    }
    const { name: _n, expression: _e, timezone: _t, missed: _m, ...job } = params;
    const row = validateEnqueue(job as EnqueueParams, this.definitions);
    await this.resolveResume(row);
    const { schedule, inserted } = await db.scheduleUpsert(this.sql, {
      name, expression: cron.expression, timezone: cron.timezone,
      missed: missed.kind, missedLimit: missed.kind === "all" ? missed.limit : null,
      kind: row.kind, queue: row.queue, priority: row.priority, payload: row.payload, maxAttempts: row.maxAttempts,
      concurrencyKey: row.concurrencyKey, concurrencyLimit: row.concurrencyLimit, uniqueKey: row.uniqueKey, uniqueStates: row.uniqueStates,
      nextRunAt: cron.nextSlot(this.now()),
    });
    return { schedule: toInfo(schedule), created: inserted };
  }

  async list(): Promise<ScheduleInfo[]> {
    return (await db.scheduleList(this.sql)).map(toInfo);
  }

  async get(name: string): Promise<ScheduleInfo> {
    const [row] = await db.scheduleList(this.sql, validateScheduleName("name", name));
    if (!row) throw new NotFoundError(`no schedule named ${JSON.stringify(name)}`);
    return toInfo(row);
  }

  async remove(name: string): Promise<void> {
    if (!(await db.scheduleDelete(this.sql, validateScheduleName("name", name)))) {
      throw new NotFoundError(`no schedule named ${JSON.stringify(name)}`);
    }
  }

  async pause(name: string): Promise<ScheduleInfo> {
    return this.found(name, await db.schedulePause(this.sql, validateScheduleName("name", name)));
  }

  /** Enqueues again from the first slot after now; the slots of the pause are not caught up. */
  async resume(name: string): Promise<ScheduleInfo> {
    const current = await this.get(name);
    const next = CronSchedule.parse(current.expression, current.timezone).nextSlot(this.now());
    return this.found(name, await db.scheduleResume(this.sql, current.name, next));
  }

  /** Enqueues one job from the template now (also when paused); its next slot is unchanged. */
  async runNow(name: string): Promise<{ jobId: string; schedule: ScheduleInfo }> {
    const done = await db.scheduleEnqueue(this.sql, { name: validateScheduleName("name", name), slots: [null], advance: false, nextRunAt: null });
    const schedule = this.found(name, done?.schedule ?? null);
    const jobId = done!.inserted[0];
    if (jobId === undefined) {
      throw new ConflictError(`schedule ${JSON.stringify(name)}: a job holds its unique key ${JSON.stringify(schedule.job.uniqueKey)}; nothing was enqueued`);
    }
    return { jobId, schedule: { ...schedule, lastJobStatus: "queued" } };
  }

  /**
   * As Queue.enqueue does: a Claude template's `resume` naming an existing job
   * becomes that job's session id (every slot's job continues that session);
   * a job with no session yet is an InputError; any other UUID is a session id.
   */
  private async resolveResume(row: { kind: string; payload: Record<string, unknown> }): Promise<void> {
    const resume = row.kind === "claude" ? row.payload.resume : undefined;
    if (typeof resume !== "string") return;
    const earlier = await jobGet(this.sql, resume);
    if (!earlier) return;
    const sessionId = earlier.result?.sessionId;
    if (typeof sessionId !== "string" || sessionId === "") {
      throw new InputError("payload.resume", `job ${resume} has no Claude session yet (it is ${earlier.status}); resume it once it has run, or give a session id`);
    }
    row.payload = { ...row.payload, resume: sessionId };
  }

  private found(name: string, row: db.ScheduleRow | null): ScheduleInfo {
    if (!row) throw new NotFoundError(`no schedule named ${JSON.stringify(name)}`);
    return toInfo(row);
  }
}
