// Daily Claude budgets per queue, and what Claude attempts spent. A queue
// whose recorded cost for its day (UTC, or the zone it was given) has reached
// its budget has its Claude jobs (kind 'claude') claimed by no worker until
// its next day begins: the claim queries check it in the database, for every
// worker at once. Other kinds in the queue keep running. Spend is recorded by
// the database when each Claude attempt's outcome is written (migration 008),
// never here. A run already going when the budget is reached finishes: the
// day may overshoot by what the runs in flight cost.
// Validates input, then calls the typed wrappers (src/db/budgets.ts).

import type { Sql } from "../db/connect.ts";
import { budgetClear, budgetList, budgetSet, spendDays, spendTotals, type BudgetRow, type SpendRow, type SpendTotal } from "../db/budgets.ts";
import { InputError } from "../errors.ts";
import { validateTimezone } from "../schedule/cron.ts";
import { validateQueueName } from "./validate.ts";

export type { SpendRow, SpendTotal } from "../db/budgets.ts";

export interface QueueBudget extends BudgetRow {
  /** Why the queue's Claude jobs wait, for people ("over budget until 00:00 UTC"); null when they do not. */
  reason: string | null;
}

export interface BudgetChange {
  /** The queue's budget after the change (null: cleared, and no zone of its own either). */
  budget: QueueBudget | null;
  /** False when there was nothing to clear. */
  changed: boolean;
}

export const MAX_DAILY_USD = 1_000_000;
/** Dollars and cents, or finer (the CLI reports costs to the 1/10,000th of a cent): at most 6 decimals. */
const AMOUNT = /^\d{1,7}(?:\.\d{1,6})?$/;
/** How many days of spend the dashboard and stats show. */
export const SPEND_DAYS = 14;

/** A daily amount in US dollars, as exact decimal text: a JSON number or a string like "20" or "7.50". */
export function validateDailyUsd(field: string, value: unknown): string {
  const text = typeof value === "number" ? String(value) : typeof value === "string" ? value.trim() : "";
  const n = Number(text);
  if (!AMOUNT.test(text) || !(n > 0) || n > MAX_DAILY_USD) {
    throw new InputError(field, `must be an amount in US dollars above 0 and at most ${MAX_DAILY_USD}, like 20 or 7.50; got ${JSON.stringify(value)}`);
  }
  return text;
}

/** "over budget until 00:00 UTC": the queue's Claude jobs wait for its next day. */
export function budgetReason(b: BudgetRow): string | null {
  return b.overBudget ? `over budget until 00:00 ${b.timezone}` : null;
}

const withReason = (b: BudgetRow): QueueBudget => ({ ...b, reason: budgetReason(b) });

export class Budgets {
  constructor(readonly sql: Sql) {}

  /**
   * Gives the queue (it need not have jobs yet) a daily budget for its Claude
   * jobs. The zone its days are counted in: `timezone`, else the one it has,
   * else UTC. Takes effect at the next claim of every worker.
   */
  async set(name: string, options: { dailyUsd: number | string; timezone?: string }): Promise<QueueBudget> {
    const queue = validateQueueName("queue", name);
    const amount = validateDailyUsd("dailyUsd", options.dailyUsd);
    const zone = options.timezone === undefined ? null : validateTimezone("timezone", options.timezone);
    try {
      await budgetSet(this.sql, queue, amount, zone);
    } catch (e: unknown) {
      // The runtime knew the zone, PostgreSQL (which counts the days) does not.
      if ((e as { code?: string }).code === "22023") {
        throw new InputError("timezone", `must be a time zone the database knows (see pg_timezone_names); got ${JSON.stringify(zone)}`);
      }
      throw e;
    }
    return (await this.get(queue))!;
  }

  /** Removes the queue's daily budget: its Claude jobs are claimed again at once. Its zone stays. */
  async clear(name: string): Promise<BudgetChange> {
    const queue = validateQueueName("queue", name);
    const changed = await budgetClear(this.sql, queue);
    return { budget: await this.get(queue), changed };
  }

  /** The queue's budget and today's spend; null when it has neither a budget nor a zone. */
  async get(name: string): Promise<QueueBudget | null> {
    const queue = validateQueueName("queue", name);
    const [row] = await budgetList(this.sql, queue);
    return row ? withReason(row) : null;
  }

  /** Every queue with a budget (or a zone of its own), by name. */
  async list(): Promise<QueueBudget[]> {
    return (await budgetList(this.sql)).map(withReason);
  }

  /** The queues whose Claude jobs wait for their next day, by name. */
  async overBudget(): Promise<QueueBudget[]> {
    return (await this.list()).filter((b) => b.overBudget);
  }

  /** Cost, tokens, turns and attempts per queue and day, over the last `days` days (default 14), oldest first. */
  async spend(options: { days?: number } = {}): Promise<SpendRow[]> {
    const days = options.days ?? SPEND_DAYS;
    if (!Number.isInteger(days) || days < 1 || days > 366) throw new InputError("days", `must be an integer from 1 to 366; got ${JSON.stringify(days)}`);
    return spendDays(this.sql, days);
  }

  /** All spend ever recorded, per queue: sums that only grow (the /metrics counters). */
  async totals(): Promise<SpendTotal[]> {
    return spendTotals(this.sql);
  }
}
