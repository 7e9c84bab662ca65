// Typed wrappers around sql/queries/budget_*.sql and spend_*.sql: a queue's
// daily Claude budget and zone (columns of claude_job_queues), and the spend
// recorded per queue and day (claude_job_spend, written only by the trigger of
// migration 008, in each attempt's own transaction). Nothing here writes
// spend; the claim queries read budgets themselves (claude_jobs_over_budget()).

import type { Queryable } from "./connect.ts";
import set from "../../sql/queries/budget_set.sql" with { type: "text" };
import clear from "../../sql/queries/budget_clear.sql" with { type: "text" };
import list from "../../sql/queries/budget_list.sql" with { type: "text" };
import days from "../../sql/queries/spend_days.sql" with { type: "text" };
import totals from "../../sql/queries/spend_totals.sql" with { type: "text" };

export interface BudgetRow {
  queue: string;
  /** null: no limit (the queue has only a zone of its own). */
  dailyUsd: number | null;
  timezone: string;
  /** Today in the queue's zone, YYYY-MM-DD. */
  today: string;
  spentTodayUsd: number;
  /** Today's recorded cost reached the budget: no worker claims the queue's Claude jobs until dayEndsAt. */
  overBudget: boolean;
  /** The start of the queue's next day (its local midnight). */
  dayEndsAt: Date;
}

/** What Claude attempts of one queue spent on one of its days. */
export interface SpendRow {
  queue: string;
  /** The queue's day (in its zone), YYYY-MM-DD. */
  day: string;
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  turns: number;
  attempts: number;
}

export type SpendTotal = Omit<SpendRow, "day">;

type Row = Record<string, unknown>;
const run = async (sql: Queryable, text: string, params: unknown[]) =>
  (await sql.unsafe(text, params as never[], { prepare: true })) as unknown as Row[];

const toSpend = (r: Row): SpendTotal => ({
  queue: r.queue as string,
  costUsd: Number(r.cost_usd),
  inputTokens: Number(r.input_tokens),
  outputTokens: Number(r.output_tokens),
  cacheReadTokens: Number(r.cache_read_tokens),
  cacheCreationTokens: Number(r.cache_creation_tokens),
  turns: Number(r.turns),
  attempts: Number(r.attempts),
});

/** Sets the queue's budget ($ as decimal text, exact) and, when given, its zone. Raises 22023 for a zone PostgreSQL does not know. */
export async function budgetSet(sql: Queryable, name: string, dailyUsd: string, timezone: string | null): Promise<void> {
  await run(sql, set, [name, dailyUsd, timezone]);
}

/** Removes the queue's budget; false when it had none. */
export async function budgetClear(sql: Queryable, name: string): Promise<boolean> {
  return (await run(sql, clear, [name])).length > 0;
}

/** The queues with a budget or a zone (or just `name`'s), with today's spend. */
export async function budgetList(sql: Queryable, name: string | null = null): Promise<BudgetRow[]> {
  return (await run(sql, list, [name])).map((r) => ({
    queue: r.name as string,
    dailyUsd: r.daily_budget_usd === null ? null : Number(r.daily_budget_usd),
    timezone: r.timezone as string,
    today: r.today as string,
    spentTodayUsd: Number(r.spent_today_usd),
    overBudget: r.over_budget as boolean,
    dayEndsAt: r.day_ends_at as Date,
  }));
}

/** Spend per queue and day over the last `days` days, oldest first. */
export async function spendDays(sql: Queryable, dayCount: number): Promise<SpendRow[]> {
  return (await run(sql, days, [dayCount])).map((r) => ({ ...toSpend(r), day: r.day as string }));
}

/** All spend ever recorded, per queue: monotonic sums. */
export async function spendTotals(sql: Queryable): Promise<SpendTotal[]> {
  return (await run(sql, totals, [])).map(toSpend);
}
