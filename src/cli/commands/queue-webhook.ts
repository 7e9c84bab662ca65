// `claude-jobs queue webhook NAME URL [--secret S] [--template T]`, `queue
// webhook NAME --clear`, `queue webhook NAME` / `queue webhook` (show): a
// queue's webhook, POSTed to when any of its jobs ends or is parked
// (src/notify). Dispatched from queue.ts; the secret is never printed.

import { InputError } from "../../errors.ts";
import { Webhooks, type QueueWebhook } from "../../notify/webhooks.ts";
import { redactWebhookUrl, validateTarget } from "../../notify/target.ts";
import { validateQueueName } from "../../queue/validate.ts";
import { openDatabase, type CliContext } from "../context.ts";
import { BUDGET_OPTIONS } from "./queue-budget.ts";
import { table } from "../format.ts";
import { jsonText, visible } from "../terminal.ts";
import type { CommandSpec, ParsedCommand } from "../options.ts";

/** The flags `queue webhook` adds to `queue`. */
export const QUEUE_WEBHOOK_OPTIONS = {
  secret: { type: "string", description: "webhook: the HMAC-SHA256 key of its signature header (default: the worker's CLAUDE_JOBS_WEBHOOK_SECRET)" },
  template: { type: "string", description: `webhook: the body as a JSON template, e.g. '{"text":"{{status}}: {{queue}} job {{id}}"}' (Slack)` },
  // Shared with `queue budget` (queue-budget.ts): the one flag, said for both.
  clear: { type: "boolean", description: "budget or webhook: remove the queue's daily limit, or its webhook" },
} as const satisfies CommandSpec["options"];

/** Ours besides --clear, which `queue budget` takes too. */
const OWN_FLAGS = ["secret", "template"];

/** For the other actions of `queue`: the webhook's flags and a third argument are mistakes, not ignored. */
export function rejectWebhookArguments(action: string, values: ParsedCommand["values"], extra: string | undefined): void {
  if (extra !== undefined) throw new InputError("arguments", `queue ${action} takes at most a queue name; got also ${JSON.stringify(extra)}`);
  for (const flag of OWN_FLAGS) {
    if (values[flag] !== undefined) throw new InputError(`--${flag}`, `only applies to queue webhook; got it with queue ${action}`);
  }
}

export async function runQueueWebhook(ctx: CliContext, values: ParsedCommand["values"], name: string | undefined, url: string | undefined): Promise<number> {
  for (const flag of Object.keys(BUDGET_OPTIONS)) {
    if (flag !== "clear" && values[flag] !== undefined) throw new InputError(`--${flag}`, "only applies to queue budget; got it with queue webhook");
  }
  const clear = values.clear === true;
  if (clear && url !== undefined) throw new InputError("--clear", "takes no URL: claude-jobs queue webhook <name> --clear");
  if (clear && name === undefined) throw new InputError("name", "queue webhook --clear needs the queue's name");
  if (url === undefined && (values.secret !== undefined || values.template !== undefined)) {
    throw new InputError("url", "is needed with --secret or --template: claude-jobs queue webhook <name> <url> [--secret=S] [--template=T]");
  }
  // Every input checked before the database is opened.
  if (name !== undefined) validateQueueName("queue", name);
  const flags = { url: "url", secret: "--secret", template: "--template" };
  if (url !== undefined) validateTarget(flags, { url, secret: values.secret, template: values.template });
  const db = await openDatabase(ctx, { databaseUrl: values["database-url"] as string | undefined, max: 2 });
  try {
    const webhooks = new Webhooks(db.sql);
    if (url !== undefined) {
      const set = await webhooks.setQueue(name!, { url, secret: values.secret, template: values.template }, flags);
      if (values.json) ctx.out(jsonText(shown(set)));
      else ctx.out(visible(`queue ${set.queue}: its jobs' ends and parks are POSTed to ${set.url}${set.hasSecret ? ", signed with its secret" : ""}${set.template ? ", with a body template" : ""}`));
      return 0;
    }
    if (clear) {
      const gone = await webhooks.clearQueue(name!);
      if (values.json) ctx.out(jsonText({ queue: name, cleared: gone !== null }));
      else ctx.out(visible(gone ? `queue ${gone.queue}: webhook removed (deliveries already due are still sent)` : `queue ${name} had no webhook`));
      return 0;
    }
    const list = await webhooks.queues(name);
    if (values.json) ctx.out(jsonText(list.map(shown)));
    else if (list.length === 0) ctx.out(name === undefined ? "no queue has a webhook" : `queue ${name} has no webhook`);
    else ctx.out(table(["QUEUE", "URL", "SECRET", "TEMPLATE"], list.map((w) => [w.queue, redactWebhookUrl(w.url), w.hasSecret ? "yes" : "no", w.template ?? ""].map(visible))));
    return 0;
  } finally {
    await db.close();
  }
}

/** What is printed of a queue's webhook: the URL redacted (it may be a credential), whether it has a secret. */
function shown(w: QueueWebhook) {
  return { queue: w.queue, url: redactWebhookUrl(w.url), hasSecret: w.hasSecret, template: w.template, updatedAt: w.updatedAt };
}
