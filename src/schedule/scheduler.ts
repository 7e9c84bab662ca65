// The scheduler: every worker runs it as a maintenance task (about once a
// second). A tick takes the due, unpaused schedules one at a time: read one,
// pick the slots to enqueue by the missed policy, then in ONE statement lock
// its row, check that next_run_at is still the one read (else another worker
// has done it: passed over), insert the slots' jobs with ON CONFLICT DO
// NOTHING on (schedule, slot) and move next_run_at past `now`. So with any
// number of workers a slot gets exactly one job: a second insert of it
// finds the unique index taken, and next_run_at passes a slot only when its
// job (or the policy's decision to skip it) commits with it. No transaction
// spans statements: on the worker's connections a transaction cut by a lost
// connection makes postgres.js throw from a timer (src/db/session.ts), which
// the fault suite showed as a crashed worker. The clock is the worker's
// (WorkerOptions.now): tests pass theirs.
//
// No import of src/worker: the task is typed by its shape, which
// src/worker/maintenance.ts's MaintenanceTask accepts.

import type { Sql } from "../db/connect.ts";
import { scheduleClaimDue, scheduleEnqueue, type DueSchedule } from "../db/schedules.ts";
import { CronSchedule } from "./cron.ts";
import { dueSlots } from "./missed.ts";
import { missedOf } from "./schedules.ts";

export const SCHEDULER_TASK = "schedules";
/** The pace of the ticks: a slot is enqueued within about this long of its time. */
export const SCHEDULER_EVERY_MS = 1000;
/** Schedules one tick handles at most; the rest wait a second for the next. */
const MAX_PER_TICK = 100;

/** What a tick did for one schedule (the `maintenance:schedules` event). */
export interface ScheduleTick {
  name: string;
  /** The slots it enqueued, oldest first. */
  slots: Date[];
  /** The jobs inserted for them (fewer than slots when a slot had a job already, or a unique key was held). */
  jobIds: string[];
  /** Due slots the missed policy dropped. */
  skipped: number;
  nextRunAt: Date | null;
}

export interface SchedulerContext {
  /** Runs a query on the worker's bounded connections (WorkerDb.run). */
  db: { run<T>(query: (sql: Sql) => Promise<T>): Promise<T> };
  now: () => Date;
  signal: AbortSignal;
  emit: (event: string, data: unknown) => void;
}

/** The maintenance task of src/worker/maintenance.ts's builtinMaintenance. */
export function schedulerTask() {
  return {
    name: SCHEDULER_TASK,
    everyMs: SCHEDULER_EVERY_MS,
    run: async (ctx: SchedulerContext): Promise<void> => {
      const errors: Error[] = [];
      const done = await enqueueDueSlots(ctx.db.run.bind(ctx.db), ctx.now(), { signal: ctx.signal, onError: (e) => errors.push(e) });
      for (const tick of done) ctx.emit(`maintenance:${SCHEDULER_TASK}`, tick);
      // The worker reports a task's error (an "error" event); the other schedules were handled.
      if (errors.length > 0) throw errors.length === 1 ? errors[0] : new AggregateError(errors, errors.map((e) => e.message).join("; "));
    },
  };
}

/**
 * Enqueues the due slots of every due schedule at `now`. A schedule whose
 * stored expression no longer parses (written by another version, or by
 * hand) goes to `onError` (thrown at the end without one) and is left for the
 * next tick, without holding up the others.
 */
export async function enqueueDueSlots(
  run: <T>(query: (sql: Sql) => Promise<T>) => Promise<T>, now: Date,
  options: { signal?: AbortSignal; onError?: (e: Error) => void } = {},
): Promise<ScheduleTick[]> {
  const done: ScheduleTick[] = [];
  const failed: Error[] = [];
  const passed: string[] = [];
  for (let i = 0; i < MAX_PER_TICK && !options.signal?.aborted; i++) {
    // No transaction: the worker's connections run single statements (a
    // transaction cut by a lost connection makes postgres.js throw from a
    // timer: src/db/session.ts). The enqueue statement locks the schedule and
    // acts only if its next_run_at is still the one planned from.
    const due = await run((sql) => scheduleClaimDue(sql, now, passed));
    if (!due) break;
    let plan: Omit<ScheduleTick, "jobIds">;
    try {
      plan = planSlots(due, now);
    } catch (e: unknown) {
      passed.push(due.name);
      failed.push(new Error(`schedule ${JSON.stringify(due.name)}: ${(e as Error).message}`, { cause: e }));
      continue;
    }
    const result = await run((sql) => scheduleEnqueue(sql, {
      name: due.name, slots: plan.slots, advance: true, nextRunAt: plan.nextRunAt, expectedNextRunAt: due.nextRunAt,
    }));
    // null: another worker moved this schedule first (or it was removed); its slots are that worker's.
    if (result === null) passed.push(due.name);
    else done.push({ ...plan, jobIds: result.inserted });
  }
  if (options.onError) failed.forEach(options.onError);
  else if (failed.length > 0) throw failed.length === 1 ? failed[0] : new AggregateError(failed, failed.map((e) => e.message).join("; "));
  return done;
}

/** The slots to enqueue at `now` and the next slot after it (no database). */
function planSlots(due: DueSchedule, now: Date): Omit<ScheduleTick, "jobIds"> {
  const cron = CronSchedule.parse(due.expression, due.timezone);
  const { enqueue, skipped } = dueSlots(cron, missedOf(due), due.nextRunAt, now);
  return { name: due.name, slots: enqueue, skipped, nextRunAt: cron.nextSlot(now) };
}
