// The missed policy: which of a schedule's due slots a tick enqueues. A slot
// is due once its time has come; normally a tick finds one, within a second
// or two of its time. When no worker ran for a while (all stopped, the
// database down), it finds several, and the policy decides:
//   skip    only a slot that is on time (at most ON_TIME_MS late); the
//           missed ones are dropped
//   once    one job, for the latest due slot (the default: a catch-up job,
//           not one per missed slot)
//   all:N   the latest N due slots, one job each (N from 1 to 1000)
// Slots not enqueued are skipped for good: next_run_at moves past them.

import { InputError } from "../errors.ts";
import type { CronSchedule } from "./cron.ts";

export type MissedPolicy = { kind: "skip" } | { kind: "once" } | { kind: "all"; limit: number };

export const DEFAULT_MISSED: MissedPolicy = { kind: "once" };
export const MISSED_LIMIT_RANGE = [1, 1000] as const;
/** How late a slot may be found and still be on time (the skip policy); a tick runs every second or so. */
export const ON_TIME_MS = 60_000;

const ALLOWED = `skip, once or all:N (N from ${MISSED_LIMIT_RANGE[0]} to ${MISSED_LIMIT_RANGE[1]})`;

export function parseMissed(field: string, value: unknown): MissedPolicy {
  if (value === "skip" || value === "once") return { kind: value };
  const m = typeof value === "string" ? /^all:(\d{1,4})$/.exec(value) : null;
  const limit = m ? Number(m[1]) : NaN;
  if (!m || limit < MISSED_LIMIT_RANGE[0] || limit > MISSED_LIMIT_RANGE[1]) {
    throw new InputError(field, `must be ${ALLOWED}; got ${JSON.stringify(value)}`);
  }
  return { kind: "all", limit };
}

export function formatMissed(policy: MissedPolicy): string {
  return policy.kind === "all" ? `all:${policy.limit}` : policy.kind;
}

export interface DueSlots {
  /** The slots to enqueue, oldest first. */
  enqueue: Date[];
  /** How many due slots the policy dropped (a count: there may be many). */
  skipped: number;
}

/**
 * The slots to enqueue at `now` for a schedule whose first unhandled slot is
 * `from` (its next_run_at). Counting what was skipped is bounded: past 10,000
 * due slots the count says "at least".
 */
export function dueSlots(schedule: CronSchedule, policy: MissedPolicy, from: Date, now: Date): DueSlots {
  const wanted = policy.kind === "all" ? policy.limit : 1;
  const latest = schedule.latestSlots(wanted, from, now);
  let enqueue = latest;
  if (policy.kind === "skip") enqueue = latest.filter((at) => now.getTime() - at.getTime() <= ON_TIME_MS);
  const due = latest.length < wanted ? latest.length : countSlots(schedule, from, now, 10_000);
  return { enqueue: enqueue.reverse(), skipped: due - enqueue.length };
}

function countSlots(schedule: CronSchedule, from: Date, to: Date, cap: number): number {
  let n = 0;
  // nextSlot is strictly after: start just before `from`, which is due itself.
  let at: Date | null = new Date(from.getTime() - 1);
  while (n < cap && (at = schedule.nextSlot(at)) !== null && at <= to) n++;
  return n;
}
