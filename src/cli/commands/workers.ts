// `claude-jobs workers`: the live workers (their advisory lock is held) and what each runs.

import { Queue } from "../../queue/client.ts";
import { Queues } from "../../queue/queues.ts";
import { usageList } from "../../db/usage.ts";
import { usageLines } from "./claude.ts";
import { openDatabase, type CliContext } from "../context.ts";
import { table } from "../format.ts";
import { jsonText, visible } from "../terminal.ts";
import { DATABASE_URL_OPTION, JSON_OPTION, type CommandSpec, type ParsedCommand } from "../options.ts";

export const spec: CommandSpec = {
  name: "workers",
  summary: "List live workers: host, pid, queues, concurrency, running jobs.",
  usage: "claude-jobs workers [--json]",
  options: { json: JSON_OPTION, "database-url": DATABASE_URL_OPTION },
};

export async function run(ctx: CliContext, { values }: ParsedCommand): Promise<number> {
  const db = await openDatabase(ctx, { databaseUrl: values["database-url"] as string | undefined, max: 1 });
  try {
    const [workers, paused, usage] = await Promise.all([new Queue(db.sql).workers(), new Queues(db.sql).paused(), usageList(db.sql)]);
    if (values.json) ctx.out(jsonText(workers));
    else ctx.out(table(["ID", "HOST", "PID", "QUEUES", "CONCURRENCY", "STARTED", "RUNNING"],
      workers.map((w) => [String(w.id), w.host, String(w.pid), w.queues.join(","), String(w.concurrency),
        w.startedAt.toISOString().slice(0, 19).replace("T", " "), String(w.runningJobIds.length)].map(visible))));
    if (!values.json && paused.length > 0) ctx.out(visible(`paused queues (claimed by no worker): ${paused.join(", ")}`));
    if (!values.json) for (const line of usageLines(usage, new Date())) ctx.out(visible(line));
    return 0;
  } finally {
    await db.close();
  }
}
