// `claude-jobs stats`: counts by status, overall and per queue.

import { Queue } from "../../queue/client.ts";
import { openDatabase, type CliContext } from "../context.ts";
import { table } from "../format.ts";
import { jsonText, visible } from "../terminal.ts";
import { DATABASE_URL_OPTION, JSON_OPTION, type CommandSpec, type ParsedCommand } from "../options.ts";

export const spec: CommandSpec = {
  name: "stats",
  summary: "Count jobs by status (queued = due now, scheduled = queued for later), overall and per queue.",
  usage: "claude-jobs stats [--json]",
  options: { json: JSON_OPTION, "database-url": DATABASE_URL_OPTION },
};

const COLUMNS = ["queued", "scheduled", "running", "finished", "failed", "cancelled"] as const;

export async function run(ctx: CliContext, { values }: ParsedCommand): Promise<number> {
  const db = await openDatabase(ctx, { databaseUrl: values["database-url"] as string | undefined, max: 1 });
  try {
    const stats = await new Queue(db.sql).stats();
    if (values.json) {
      ctx.out(jsonText(stats));
      return 0;
    }
    const rows = stats.queues.map((q) => [q.queue, ...COLUMNS.map((c) => String(q[c]))]);
    rows.push(["(all)", ...COLUMNS.map((c) => String(stats[c]))]);
    ctx.out(table(["QUEUE", ...COLUMNS.map((c) => c.toUpperCase())], rows.map((r) => r.map(visible))));
    return 0;
  } finally {
    await db.close();
  }
}
