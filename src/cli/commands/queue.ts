// `claude-jobs queue list|pause|resume`: queues with their counts, and
// pausing them. A paused queue is claimed by no worker anywhere (the claim
// queries skip it); its running jobs finish, and enqueueing into it goes on.
// The pause is a row in the database, so it holds across worker restarts.

import { hostname, userInfo } from "node:os";
import { InputError } from "../../errors.ts";
import { Queues, type QueueInfo } from "../../queue/queues.ts";
import { openDatabase, type CliContext } from "../context.ts";
import { BUDGET_OPTIONS, rejectBudgetFlags, runBudget } from "./queue-budget.ts";
import { table } from "../format.ts";
import { jsonText, visible } from "../terminal.ts";
import { DATABASE_URL_OPTION, JSON_OPTION, type CommandSpec, type ParsedCommand } from "../options.ts";
import { QUEUE_WEBHOOK_OPTIONS, rejectWebhookArguments, runQueueWebhook } from "./queue-webhook.ts";

export const spec: CommandSpec = {
  name: "queue",
  summary: "List queues (counts by status, paused or not, by whom, since when); pause or resume one (a paused queue is claimed by no worker; running jobs finish); give one a daily budget for its Claude jobs.",
  usage: "claude-jobs queue list [--json] | queue pause <name> [--by=WHO] | queue resume <name> | queue budget <name> [--daily-usd=N [--timezone=ZONE] | --clear] | queue webhook [<name> [<url> [--secret=S] [--template=T] | --clear]]",
  options: {
    by: { type: "string", description: "pause: who paused it, as shown in queue list and the dashboard (default: user@host of this shell)" },
    ...BUDGET_OPTIONS,
    ...QUEUE_WEBHOOK_OPTIONS,
    json: JSON_OPTION,
    "database-url": DATABASE_URL_OPTION,
  },
  positionals: ["action", "name?", "url?"],
};

const COLUMNS = ["waiting", "queued", "scheduled", "running", "finished", "failed", "cancelled"] as const;

/** Who pauses from this shell: meaningful to a colleague, and no secret. */
function defaultBy(): string {
  let user = "unknown";
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry for this uid (a container): the host still says something
  }
  return `${user}@${hostname()}`;
}

export async function run(ctx: CliContext, { values, positionals }: ParsedCommand): Promise<number> {
  const [action, name, url] = positionals;
  if (action === "webhook") return runQueueWebhook(ctx, values, name, url);
  rejectWebhookArguments(action ?? "", values, url);
  if (action === "budget") return runBudget(ctx, name, values);
  if (action !== "list" && action !== "pause" && action !== "resume") {
    throw new InputError("action", `must be list, pause, resume, budget or webhook; got ${JSON.stringify(action)}`);
  }
  rejectBudgetFlags(action, values);
  if (action === "list" && name !== undefined) throw new InputError("arguments", `queue list takes no queue name; got ${JSON.stringify(name)}`);
  if (action !== "list" && name === undefined) throw new InputError("name", `queue ${action} needs the queue's name: claude-jobs queue ${action} <name>`);
  if (action !== "pause" && values.by !== undefined) throw new InputError("--by", `only applies to queue pause`);
  const db = await openDatabase(ctx, { databaseUrl: values["database-url"] as string | undefined, max: 2 });
  try {
    const queues = new Queues(db.sql);
    if (action === "list") {
      const list = await queues.list();
      if (values.json) ctx.out(jsonText(list));
      else if (list.length === 0) ctx.out("no queues yet: a queue appears with its first job, or when it is paused");
      else ctx.out(listTable(list));
      return 0;
    }
    const change = action === "pause"
      ? await queues.pause(name!, { by: values.by === undefined ? defaultBy() : String(values.by) })
      : await queues.resume(name!);
    if (values.json) ctx.out(jsonText(change));
    else ctx.out(visible(changeLine(action, change.queue, change.changed)));
    return 0;
  } finally {
    await db.close();
  }
}

function changeLine(action: "pause" | "resume", q: QueueInfo, changed: boolean): string {
  const since = q.pausedAt ? ` by ${q.pausedBy ?? "?"} at ${stamp(q.pausedAt)}` : "";
  if (action === "pause") {
    return changed
      ? `queue ${q.queue} paused: no worker claims its jobs (${q.queued} queued); ${q.running} running job(s) finish`
      : `queue ${q.queue} was paused already${since}`;
  }
  return changed ? `queue ${q.queue} resumed: ${q.queued} queued job(s) can run` : `queue ${q.queue} was not paused`;
}

function listTable(list: QueueInfo[]): string {
  const rows = list.map((q) => [
    q.queue, q.paused ? "paused" : "active", ...COLUMNS.map((c) => String(q[c])),
    q.paused ? `${q.pausedBy ?? "?"} at ${stamp(q.pausedAt!)}` : "",
  ]);
  return table(["QUEUE", "STATE", ...COLUMNS.map((c) => c.toUpperCase()), "PAUSED"], rows.map((r) => r.map(visible)));
}

const stamp = (d: Date) => d.toISOString().slice(0, 19).replace("T", " ") + "Z";
