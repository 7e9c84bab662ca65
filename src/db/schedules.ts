// Typed wrappers around sql/queries/schedule_*.sql: the only module that
// sends schedule SQL to the driver. Rows come back as ScheduleRow; the
// library (src/schedule/) turns them into what callers see.

import type { Queryable } from "./connect.ts";
import type { JobStatus } from "../handlers/types.ts";
import upsert from "../../sql/queries/schedule_upsert.sql" with { type: "text" };
import list from "../../sql/queries/schedule_list.sql" with { type: "text" };
import deleteOne from "../../sql/queries/schedule_delete.sql" with { type: "text" };
import pause from "../../sql/queries/schedule_pause.sql" with { type: "text" };
import resume from "../../sql/queries/schedule_resume.sql" with { type: "text" };
import claimDue from "../../sql/queries/schedule_claim_due.sql" with { type: "text" };
import enqueue from "../../sql/queries/schedule_enqueue.sql" with { type: "text" };

type Row = Record<string, unknown>;

async function run(sql: Queryable, text: string, params: unknown[]): Promise<Row[]> {
  return (await sql.unsafe(text, params as never[], { prepare: true })) as unknown as Row[];
}

/** What a schedule's jobs are made of: an enqueue, validated. */
export interface ScheduleTemplate {
  kind: string;
  queue: string;
  priority: number;
  payload: Record<string, unknown>;
  maxAttempts: number;
  concurrencyKey: string | null;
  concurrencyLimit: number;
  uniqueKey: string | null;
  uniqueStates: JobStatus[] | null;
}

export type MissedColumns = { missed: "skip" | "once" | "all"; missedLimit: number | null };

export interface ScheduleRow extends ScheduleTemplate, MissedColumns {
  name: string;
  expression: string;
  timezone: string;
  pausedAt: Date | null;
  nextRunAt: Date | null;
  lastRunAt: Date | null;
  lastJobId: string | null;
  /** Only from scheduleList: null when there is no last job (or it was deleted). */
  lastJobStatus: JobStatus | null;
  createdAt: Date;
  updatedAt: Date;
}

/** An enum array: postgres.js knows no parser for claude_job_status[] and gives its text, '{waiting,queued}'. */
function statesOf(value: unknown): JobStatus[] | null {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value as JobStatus[];
  const text = String(value).replace(/^\{|\}$/g, "");
  return text === "" ? [] : (text.split(",") as JobStatus[]);
}

function toRow(r: Row): ScheduleRow {
  return {
    name: r.name as string,
    expression: r.expression as string,
    timezone: r.timezone as string,
    missed: r.missed as MissedColumns["missed"],
    missedLimit: (r.missed_limit as number | null) ?? null,
    kind: r.kind as string,
    queue: r.queue as string,
    priority: r.priority as number,
    payload: r.payload as Record<string, unknown>,
    maxAttempts: r.max_attempts as number,
    concurrencyKey: (r.concurrency_key as string | null) ?? null,
    concurrencyLimit: r.concurrency_limit as number,
    uniqueKey: (r.unique_key as string | null) ?? null,
    uniqueStates: statesOf(r.unique_states),
    pausedAt: (r.paused_at as Date | null) ?? null,
    nextRunAt: (r.next_run_at as Date | null) ?? null,
    lastRunAt: (r.last_run_at as Date | null) ?? null,
    lastJobId: (r.last_job_id as string | null) ?? null,
    lastJobStatus: (r.last_job_status as JobStatus | null | undefined) ?? null,
    createdAt: r.created_at as Date,
    updatedAt: r.updated_at as Date,
  };
}

export interface ScheduleUpsert extends ScheduleTemplate, MissedColumns {
  name: string;
  expression: string;
  timezone: string;
  nextRunAt: Date | null;
}

/** Adds or replaces a schedule; `inserted` says which. */
export async function scheduleUpsert(sql: Queryable, s: ScheduleUpsert): Promise<{ schedule: ScheduleRow; inserted: boolean }> {
  const [row] = await run(sql, upsert, [
    s.name, s.expression, s.timezone, s.missed, s.missedLimit, s.kind, s.queue, s.priority, JSON.stringify(s.payload),
    s.maxAttempts, s.concurrencyKey, s.concurrencyLimit, s.nextRunAt?.toISOString() ?? null,
    s.uniqueKey, s.uniqueStates ? `{${s.uniqueStates.join(",")}}` : null,
  ]);
  return { schedule: toRow(row!), inserted: row!.inserted as boolean };
}

/** Every schedule by name, or the one named. */
export async function scheduleList(sql: Queryable, name: string | null = null): Promise<ScheduleRow[]> {
  return (await run(sql, list, [name])).map(toRow);
}

export async function scheduleDelete(sql: Queryable, name: string): Promise<boolean> {
  return (await run(sql, deleteOne, [name])).length > 0;
}

export async function schedulePause(sql: Queryable, name: string): Promise<ScheduleRow | null> {
  const [row] = await run(sql, pause, [name]);
  return row ? toRow(row) : null;
}

export async function scheduleResume(sql: Queryable, name: string, nextRunAt: Date | null): Promise<ScheduleRow | null> {
  const [row] = await run(sql, resume, [name, nextRunAt?.toISOString() ?? null]);
  return row ? toRow(row) : null;
}

export interface DueSchedule extends MissedColumns {
  name: string;
  expression: string;
  timezone: string;
  nextRunAt: Date;
}

/** Locks one due schedule for the rest of the caller's transaction (schedule_claim_due.sql), or null. */
export async function scheduleClaimDue(tx: Queryable, now: Date, passOver: string[] = []): Promise<DueSchedule | null> {
  const [r] = await run(tx, claimDue, [now.toISOString(), passOver]);
  if (!r) return null;
  return {
    name: r.name as string, expression: r.expression as string, timezone: r.timezone as string,
    missed: r.missed as MissedColumns["missed"], missedLimit: (r.missed_limit as number | null) ?? null,
    nextRunAt: r.next_run_at as Date,
  };
}

export interface ScheduleEnqueue {
  name: string;
  /** One per job, oldest first: a slot, or null for a job run by hand. */
  slots: (Date | null)[];
  /** Moves next_run_at to `nextRunAt` (the scheduler); a job run by hand leaves it. */
  advance: boolean;
  nextRunAt: Date | null;
  /** Acts only if next_run_at is still this (what the slots were planned from); omitted: no check. */
  expectedNextRunAt?: Date;
}

/**
 * Inserts one job per slot from the schedule's template (a slot that has a
 * job already is skipped) and records the latest as its last run. Null:
 * no such schedule, or its next_run_at is no longer `expectedNextRunAt`.
 * `inserted`: the ids of the jobs inserted, oldest first.
 */
export async function scheduleEnqueue(sql: Queryable, p: ScheduleEnqueue): Promise<{ schedule: ScheduleRow; inserted: string[] } | null> {
  const ids = p.slots.map(() => Bun.randomUUIDv7());
  const [row] = await run(sql, enqueue, [
    p.name, ids, p.slots.map((s) => s?.toISOString() ?? null), p.advance, p.nextRunAt?.toISOString() ?? null,
    p.expectedNextRunAt?.toISOString() ?? null,
  ]);
  if (!row) return null;
  const inserted = new Set(row.inserted_ids as string[]);
  return { schedule: toRow(row), inserted: ids.filter((id) => inserted.has(id)) };
}
