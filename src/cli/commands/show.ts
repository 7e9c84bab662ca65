// `claude-jobs show ID`: one job whole: payload, result, every attempt's error.

import { Queue } from "../../queue/client.ts";
import { validateId } from "../../queue/validate.ts";
import { openDatabase, type CliContext } from "../context.ts";
import { jobLines, shownStatus } from "../format.ts";
import { jsonText, visible } from "../terminal.ts";
import { DATABASE_URL_OPTION, JSON_OPTION, type CommandSpec, type ParsedCommand } from "../options.ts";

export const spec: CommandSpec = {
  name: "show",
  summary: "Show one job: payload, status, result (Claude: cost, turns, session), each attempt's error.",
  usage: "claude-jobs show <id> [--json]",
  options: { json: JSON_OPTION, "database-url": DATABASE_URL_OPTION },
  positionals: ["id"],
};

export async function run(ctx: CliContext, { values, positionals }: ParsedCommand): Promise<number> {
  const id = validateId("id", positionals[0]);
  const db = await openDatabase(ctx, { databaseUrl: values["database-url"] as string | undefined, max: 1 });
  try {
    const job = await new Queue(db.sql).get(id);
    // Job data is anyone's who can enqueue: no control sequence of it reaches the terminal.
    // In JSON `status` is the column's value; `scheduled` says a queued job is due later.
    ctx.out(values.json ? jsonText({ ...job, scheduled: shownStatus(job) === "scheduled" }) : visible(jobLines(job)));
    return 0;
  } finally {
    await db.close();
  }
}
