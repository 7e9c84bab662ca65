// `claude-jobs show ID`: one job whole: payload, result, every attempt's
// error, what it runs after and what runs after it.

import { Queue } from "../../queue/client.ts";
import type { RelatedJob } from "../../db/jobs.ts";
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

const oneLine = (text: string) => text.replace(/\s+/g, " ").slice(0, 80);

export async function run(ctx: CliContext, { values, positionals }: ParsedCommand): Promise<number> {
  const id = validateId("id", positionals[0]);
  const db = await openDatabase(ctx, { databaseUrl: values["database-url"] as string | undefined, max: 1 });
  try {
    const queue = new Queue(db.sql);
    const job = await queue.get(id);
    const deps = await queue.dependencies(id);
    // Job data is anyone's who can enqueue: no control sequence of it reaches the terminal.
    // In JSON `status` is the column's value; `scheduled` says a queued job is due later.
    if (values.json) {
      ctx.out(jsonText({ ...job, scheduled: shownStatus(job) === "scheduled", after: deps.parents, dependents: deps.dependents }));
    } else {
      const related = (title: string, jobs: RelatedJob[]) =>
        jobs.length === 0 ? [] : [`${title}:`, ...jobs.map((j) => `  ${j.id}  ${j.status}  ${j.kind}${j.prompt ? `  ${oneLine(j.prompt)}` : ""}`)];
      ctx.out(visible([jobLines(job), ...related("runs after", deps.parents), ...related("runs before", deps.dependents)].join("\n")));
    }
    return 0;
  } finally {
    await db.close();
  }
}
