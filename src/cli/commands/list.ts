// `claude-jobs list`: jobs newest first, filtered, a page at a time.

import { Queue } from "../../queue/client.ts";
import { InputError } from "../../errors.ts";
import { openDatabase, type CliContext } from "../context.ts";
import { table, shortPrompt, jobDuration, shownStatus } from "../format.ts";
import { jsonText, visible } from "../terminal.ts";
import { DATABASE_URL_OPTION, JSON_OPTION, type CommandSpec, type ParsedCommand } from "../options.ts";

export const spec: CommandSpec = {
  name: "list",
  summary: "List jobs, newest first.",
  usage: "claude-jobs list [--status=waiting|queued|scheduled|running|finished|failed|cancelled] [--queue=Q] [--kind=K] [--limit=50] [--json]",
  options: {
    status: { type: "string", description: "only jobs in this status (queued: due now; scheduled: queued for later)" },
    queue: { type: "string", description: "only jobs of this queue" },
    kind: { type: "string", description: "only jobs of this kind" },
    limit: { type: "string", description: "jobs per page, 1-1000", default: "50" },
    cursor: { type: "string", description: "continue after a previous page (its `next`)" },
    json: JSON_OPTION,
    "database-url": DATABASE_URL_OPTION,
  },
};

export async function run(ctx: CliContext, { values }: ParsedCommand): Promise<number> {
  const limit = String(values.limit);
  if (!/^\d+$/.test(limit)) throw new InputError("--limit", `must be an integer from 1 to 1000; got ${JSON.stringify(limit)}`);
  const filter = {
    status: values.status as string | undefined,
    queue: values.queue as string | undefined,
    kind: values.kind as string | undefined,
    cursor: values.cursor as string | undefined,
    limit: Number(limit),
  };
  const db = await openDatabase(ctx, { databaseUrl: values["database-url"] as string | undefined, max: 1 });
  try {
    const page = await new Queue(db.sql).list(filter);
    if (values.json) {
      // `status` is the column's value; `scheduled` says a queued job is due later.
      ctx.out(jsonText({ ...page, jobs: page.jobs.map((j) => ({ ...j, scheduled: shownStatus(j) === "scheduled" })) }));
      return 0;
    }
    ctx.out(table(
      ["ID", "KIND", "QUEUE", "PRI", "STATUS", "ATTEMPTS", "CREATED", "DURATION", "PROMPT"],
      page.jobs.map((j) => [j.id, j.kind, j.queue, String(j.priority), shownStatus(j), `${j.attempts}/${j.maxAttempts}`,
        j.createdAt.toISOString().slice(0, 19).replace("T", " "), jobDuration(j), shortPrompt(j)].map(visible)),
    ));
    if (page.next) ctx.err(`more: claude-jobs list --cursor=${page.next}`);
    return 0;
  } finally {
    await db.close();
  }
}
