// The notification flags of `worker` and `serve` (--notify-command,
// --notify-timeout, --webhook-timeout, --public-url), of `dashboard`
// (--public-url) and of `enqueue` (--webhook...), their parsing, and how they reach the worker: the
// delivery task's options (src/notify/deliver.ts) and the notify command
// (src/notify/command.ts). The global webhook secret is read from the
// environment only (CLAUDE_JOBS_WEBHOOK_SECRET): on a command line every
// local user could read it.

import type { EventEmitter } from "node:events";
import type { Sql } from "../db/connect.ts";
import { MAX_TIMEOUT_MS, parseDuration } from "../duration.ts";
import { InputError } from "../errors.ts";
import { attachNotifyCommand, NotifyCommand } from "../notify/command.ts";
import { WEBHOOK_TASK, type DeliveryReport, type WebhookTaskOptions } from "../notify/deliver.ts";
import { validateTarget, validateWebhookUrl } from "../notify/target.ts";
import { Webhooks, type WebhookInput } from "../notify/webhooks.ts";
import type { CliContext } from "./context.ts";
import type { CommandSpec, ParsedCommand } from "./options.ts";

export const PUBLIC_URL_OPTION = {
  type: "string",
  description: "the dashboard's address as people reach it (https://jobs.example.com): webhook events link to the job page there; " +
    "stored in the database, so workers on other hosts link to it too",
  env: "CLAUDE_JOBS_PUBLIC_URL",
} as const satisfies CommandSpec["options"][string];

export const NOTIFY_OPTIONS = {
  "notify-command": {
    type: "string",
    description: "a shell command run for each job this worker ends (finished, failed, cancelled) or parks on a usage limit, the event's JSON on stdin (README: Notifications)",
    env: "CLAUDE_JOBS_NOTIFY_COMMAND",
  },
  "notify-timeout": { type: "string", description: "the notify command is killed after this long", env: "CLAUDE_JOBS_NOTIFY_TIMEOUT", default: "10s" },
  "webhook-timeout": { type: "string", description: "the limit of one webhook attempt (then it is retried with backoff)", env: "CLAUDE_JOBS_WEBHOOK_TIMEOUT", default: "10s" },
  "public-url": PUBLIC_URL_OPTION,
} as const satisfies CommandSpec["options"];

export interface NotifySettings {
  notifyCommand: string | null;
  notifyTimeoutMs: number;
  publicUrl: string | null;
  webhooks: WebhookTaskOptions;
}

export function parsePublicUrl(value: unknown): string | null {
  return value === undefined || value === "" ? null : validateWebhookUrl("--public-url", String(value));
}

export function notifySettings(ctx: CliContext, values: ParsedCommand["values"]): NotifySettings {
  const command = values["notify-command"] === undefined ? null : String(values["notify-command"]);
  if (command !== null && command.trim() === "") throw new InputError("--notify-command", "must be a shell command; got an empty text");
  const secret = ctx.env.CLAUDE_JOBS_WEBHOOK_SECRET;
  if (secret !== undefined && secret.length > 1000) throw new InputError("CLAUDE_JOBS_WEBHOOK_SECRET", "must be at most 1000 characters");
  const publicUrl = parsePublicUrl(values["public-url"]);
  const timeout = (flag: "notify-timeout" | "webhook-timeout") =>
    parseDuration(`--${flag}`, String(values[flag] ?? NOTIFY_OPTIONS[flag].default), { min: 1, max: MAX_TIMEOUT_MS });
  return {
    notifyCommand: command,
    notifyTimeoutMs: timeout("notify-timeout"),
    publicUrl,
    webhooks: { secret: secret || null, publicUrl, timeoutMs: timeout("webhook-timeout") },
  };
}

/**
 * What the worker does with them beside the delivery task: the notify
 * command on its job ends, and the public URL stored for every worker.
 */
export function attachNotify(ctx: CliContext, worker: EventEmitter, sql: Sql, s: NotifySettings): void {
  const log = (line: string) => ctx.err(line);
  if (s.publicUrl !== null) storePublicUrl(ctx, sql, s.publicUrl);
  // One line per attempt that did not deliver: a receiver that is down is seen on the worker's stderr too.
  worker.on(`maintenance:${WEBHOOK_TASK}`, (r: DeliveryReport) => {
    if (r.state === "delivered" || !r.recorded) return;
    const what = r.statusCode !== null ? `HTTP ${r.statusCode}` : (r.error ?? "no answer");
    log(`webhook delivery ${r.id} (job.${r.event} of job ${r.jobId}), attempt ${r.attempt}: ${r.state === "failed" ? `failed for good: ${r.error ?? what}` : `${what}; retrying later`}`);
  });
  if (s.notifyCommand === null) return;
  const command = new NotifyCommand({ command: s.notifyCommand, timeoutMs: s.notifyTimeoutMs, log, env: ctx.env });
  attachNotifyCommand(worker, sql, command, s.publicUrl, log);
}

/** Stores the public URL for the job links of every worker's events; a failure is said, not fatal. */
export function storePublicUrl(ctx: CliContext, sql: Sql, url: string): void {
  void new Webhooks(sql).setPublicUrl(url).catch((e: unknown) => ctx.err(`could not store --public-url: ${(e as Error).message}`));
}

/** The enqueue flags' webhook, checked before anything is written; null without --webhook. */
export function webhookFromFlags(values: Record<string, unknown>): WebhookInput | null {
  const input = { url: values.webhook, secret: values["webhook-secret"], template: values["webhook-template"] };
  if (input.url === undefined) {
    for (const flag of ["webhook-secret", "webhook-template"]) {
      if (values[flag] !== undefined) throw new InputError(`--${flag}`, "needs --webhook URL");
    }
    return null;
  }
  validateTarget(WEBHOOK_FLAGS, input);
  return input;
}

export const WEBHOOK_FLAGS = { url: "--webhook", secret: "--webhook-secret", template: "--webhook-template" };
