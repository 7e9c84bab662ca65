// `claude-jobs queue budget NAME [--daily-usd N [--timezone ZONE] | --clear]`:
// a queue's daily budget for its Claude jobs. With no flag it shows the
// budget and today's spend. Dispatched to by queue.ts; every input is checked
// (naming its flag) before the database is opened, so bad input changes
// nothing.

import { InputError } from "../../errors.ts";
import { Budgets, validateDailyUsd, type QueueBudget } from "../../queue/budgets.ts";
import { validateQueueName } from "../../queue/validate.ts";
import { validateTimezone } from "../../schedule/cron.ts";
import { openDatabase, type CliContext } from "../context.ts";
import { jsonText, visible } from "../terminal.ts";
import type { OptionSpec, ParsedCommand } from "../options.ts";

export const BUDGET_OPTIONS: Record<string, OptionSpec> = {
  "daily-usd": { type: "string", description: "budget: the queue's daily limit for Claude jobs in US dollars, e.g. 20; once today's recorded cost reaches it, its Claude jobs wait for the next day" },
  timezone: { type: "string", description: "budget: the IANA zone the queue's days are counted in, e.g. Europe/Paris (default: the queue's zone, else UTC)" },
  clear: { type: "boolean", description: "budget: remove the queue's daily limit" },
};

/** The budget flags make sense only for `queue budget`: elsewhere they are an error, not ignored. */
export function rejectBudgetFlags(action: string, values: ParsedCommand["values"]): void {
  for (const flag of Object.keys(BUDGET_OPTIONS)) {
    if (values[flag] !== undefined && values[flag] !== false) throw new InputError(`--${flag}`, `only applies to queue budget; got it with queue ${action}`);
  }
}

export async function runBudget(ctx: CliContext, name: string | undefined, values: ParsedCommand["values"]): Promise<number> {
  if (name === undefined) throw new InputError("name", "queue budget needs the queue's name: claude-jobs queue budget <name> --daily-usd 20");
  if (values.by !== undefined) throw new InputError("--by", "only applies to queue pause");
  const queue = validateQueueName("name", name);
  const clear = values.clear === true;
  if (clear && (values["daily-usd"] !== undefined || values.timezone !== undefined)) {
    throw new InputError("--clear", "removes the budget, so it takes no --daily-usd or --timezone");
  }
  if (values.timezone !== undefined && values["daily-usd"] === undefined) {
    throw new InputError("--timezone", "is the zone of a budget's days: give it with --daily-usd");
  }
  const amount = values["daily-usd"] === undefined ? null : validateDailyUsd("--daily-usd", values["daily-usd"]);
  const zone = values.timezone === undefined ? undefined : validateTimezone("--timezone", values.timezone);
  const db = await openDatabase(ctx, { databaseUrl: values["database-url"] as string | undefined, max: 1 });
  try {
    const budgets = new Budgets(db.sql);
    if (clear) {
      const change = await budgets.clear(queue);
      if (values.json) ctx.out(jsonText(change));
      else ctx.out(visible(change.changed ? `queue ${queue}: daily budget removed; its Claude jobs are claimed again` : `queue ${queue} had no daily budget`));
      return 0;
    }
    if (amount === null) {
      const budget = await budgets.get(queue);
      if (values.json) ctx.out(jsonText(budget));
      else ctx.out(visible(budget?.dailyUsd == null ? `queue ${queue} has no daily budget (claude-jobs queue budget ${queue} --daily-usd 20)` : budgetLine(budget)));
      return 0;
    }
    let budget: QueueBudget;
    try {
      budget = await budgets.set(queue, { dailyUsd: amount, ...(zone !== undefined ? { timezone: zone } : {}) });
    } catch (e: unknown) {
      if (e instanceof InputError && e.field === "timezone") throw new InputError("--timezone", e.message.replace(/^timezone: /, ""));
      throw e;
    }
    ctx.out(values.json ? jsonText(budget) : visible(budgetLine(budget)));
    return 0;
  } finally {
    await db.close();
  }
}

export const usd = (n: number) => `$${n.toFixed(n !== 0 && Math.abs(n) < 0.01 ? 4 : 2)}`;

function budgetLine(b: QueueBudget): string {
  const state = b.reason ? `; ${b.reason}: its Claude jobs wait` : "";
  return `queue ${b.queue}: daily budget ${usd(b.dailyUsd!)} for Claude jobs (days in ${b.timezone}); spent today ${usd(b.spentTodayUsd)}${state}`;
}
