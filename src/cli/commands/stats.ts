// `claude-jobs stats`: counts by status, overall and per queue.

import { Queue } from "../../queue/client.ts";
import { jobUnserved } from "../../db/workers.ts";
import { Queues } from "../../queue/queues.ts";
import { Budgets } from "../../queue/budgets.ts";
import { usd } from "./queue-budget.ts";
import { usageLines } from "./claude.ts";
import { usageList } from "../../db/usage.ts";
import { openDatabase, type CliContext } from "../context.ts";
import { table } from "../format.ts";
import { jsonText, visible } from "../terminal.ts";
import { DATABASE_URL_OPTION, JSON_OPTION, type CommandSpec, type ParsedCommand } from "../options.ts";

export const spec: CommandSpec = {
  name: "stats",
  summary: "Count jobs by status (queued = due now, scheduled = queued for later), overall and per queue; warn of queued jobs no live worker handles.",
  usage: "claude-jobs stats [--json]",
  options: { json: JSON_OPTION, "database-url": DATABASE_URL_OPTION },
};

const COLUMNS = ["waiting", "queued", "scheduled", "running", "finished", "failed", "cancelled"] as const;

export async function run(ctx: CliContext, { values }: ParsedCommand): Promise<number> {
  const db = await openDatabase(ctx, { databaseUrl: values["database-url"] as string | undefined, max: 1 });
  try {
    // unserved: queued jobs no live worker handles (kind or queue); they would wait in silence.
    // paused: queues no worker claims from (claude-jobs queue resume NAME).
    // budgets: daily limits with today's spend (over budget: Claude jobs wait); spend: per queue and day, last 14 days.
    const budgets = new Budgets(db.sql);
    // usageLimits: Claude accounts paused on their usage limit, or warned in the last hour.
    const [stats, unserved, paused, budgetList, spend, usageLimits] = await Promise.all([
      new Queue(db.sql).stats(), jobUnserved(db.sql), new Queues(db.sql).paused(), budgets.list(), budgets.spend(), usageList(db.sql),
    ]);
    if (values.json) {
      ctx.out(jsonText({ ...stats, unserved, paused, budgets: budgetList, spend, usageLimits }));
      return 0;
    }
    const rows = stats.queues.map((q) => [q.queue + (paused.includes(q.queue) ? " (paused)" : ""), ...COLUMNS.map((c) => String(q[c]))]);
    rows.push(["(all)", ...COLUMNS.map((c) => String(stats[c]))]);
    ctx.out(table(["QUEUE", ...COLUMNS.map((c) => c.toUpperCase())], rows.map((r) => r.map(visible))));
    if (paused.length > 0) ctx.out(visible(`paused: ${paused.join(", ")}: no worker claims their jobs (claude-jobs queue resume NAME)`));
    for (const line of usageLines(usageLimits, new Date())) ctx.out(visible(line));
    for (const b of budgetList.filter((b) => b.reason !== null)) {
      ctx.out(visible(`queue ${b.queue}: ${b.reason} (spent ${usd(b.spentTodayUsd)} of ${usd(b.dailyUsd!)} today): its Claude jobs wait`));
    }
    for (const u of unserved) {
      ctx.out(visible(`warning: ${u.jobs} queued job(s) of kind "${u.kind}" in queue "${u.queue}": no live worker handles this kind on this queue`));
    }
    return 0;
  } finally {
    await db.close();
  }
}
