// `retry`, `cancel`, `run-now`, `delete`: one job by id, one state change.
// They share a shape, so they share this file; each prints the job's new status.

import { Queue } from "../../queue/client.ts";
import { validateId } from "../../queue/validate.ts";
import type { JobRecord } from "../../handlers/types.ts";
import { openDatabase, type CliContext } from "../context.ts";
import { DATABASE_URL_OPTION, JSON_OPTION, type CommandSpec, type ParsedCommand } from "../options.ts";
import { jsonText } from "../terminal.ts";

type Action = (queue: Queue, id: string) => Promise<JobRecord | null>;

function command(name: string, summary: string, action: Action) {
  const spec: CommandSpec = {
    name,
    summary,
    usage: `claude-jobs ${name} <id> [--json]`,
    options: { json: JSON_OPTION, "database-url": DATABASE_URL_OPTION },
    positionals: ["id"],
  };
  async function run(ctx: CliContext, { values, positionals }: ParsedCommand): Promise<number> {
    const id = validateId("id", positionals[0]);
    const db = await openDatabase(ctx, { databaseUrl: values["database-url"] as string | undefined, max: 1 });
    try {
      const job = await action(new Queue(db.sql), id);
      if (values.json) ctx.out(jsonText(job ?? { id, deleted: true }));
      else if (!job) ctx.out(`${id} deleted`);
      else if (job.status === "running") ctx.out(`${id} running; cancel requested, its worker is stopping it`);
      else ctx.out(`${id} ${job.status}`);
      return 0;
    } finally {
      await db.close();
    }
  }
  return { spec, run };
}

export const retry = command("retry", "Put a failed or cancelled job back in the queue, due now, with one more attempt.", (q, id) => q.retry(id));
export const cancel = command("cancel", "Cancel a queued job, or stop a running one wherever it runs (it ends cancelled).", (q, id) => q.cancel(id));
export const runNow = command("run-now", "Make a scheduled job due now.", (q, id) => q.runNow(id));
export const remove = command("delete", "Delete a job that is not running.", async (q, id) => {
  await q.delete(id);
  return null;
});
