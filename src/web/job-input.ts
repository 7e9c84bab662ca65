// What the API body and the enqueue form ask for, turned into a Queue.enqueue
// call; and the bulk actions (retry or cancel a selection, or every job a
// filter matches). The queue's validation has the last word (InputError).

import type { EnqueueOutcome, Queue, EnqueueParams } from "../queue/client.ts";
import type { Sql } from "../db/connect.ts";
import { InputError } from "../errors.ts";
import { submitWithWebhook } from "../notify/webhooks.ts";
import { dashCancelMany, dashJobIds, dashRetryMany } from "../db/dashboard.ts";
import { parseListQuery } from "./list-query.ts";
import { validateId } from "../queue/validate.ts";

export interface EnqueueInput {
  prompt?: string;
  cwd?: string;
  model?: string;
  kind?: string;
  queue?: string;
  priority?: number;
  max_attempts?: number;
  delay?: string | number;
  run_at?: string;
  concurrency_key?: string | null;
  concurrency_limit?: number;
  unique_key?: string;
  unique_states?: string[];
  after?: string[];
  /** A URL to POST to when the job ends or is parked (src/notify), with its signing secret and body template. */
  webhook?: string;
  webhook_secret?: string;
  webhook_template?: string;
  payload?: Record<string, unknown>;
}

export async function enqueueFromInput(queue: Queue, input: EnqueueInput): Promise<string> {
  return (await submitFromInput(queue, input)).id;
}

/** enqueueFromInput, saying whether a unique key was held (the holder's id then). */
export async function submitFromInput(queue: Queue, input: EnqueueInput): Promise<EnqueueOutcome> {
  const payload: Record<string, unknown> = { ...(input.payload ?? {}) };
  if (input.prompt !== undefined) payload.prompt = input.prompt;
  if (input.cwd !== undefined) payload.cwd = input.cwd;
  if (input.model !== undefined) payload.model = input.model;
  const params: EnqueueParams = { kind: input.kind, queue: input.queue, priority: input.priority, payload, maxAttempts: input.max_attempts };
  if (input.delay !== undefined) params.delay = input.delay;
  if (input.run_at !== undefined) params.runAt = input.run_at;
  if (input.concurrency_key !== undefined) params.concurrencyKey = input.concurrency_key;
  if (input.concurrency_limit !== undefined) params.concurrencyLimit = input.concurrency_limit;
  if (input.unique_key !== undefined) params.uniqueKey = input.unique_key;
  if (input.unique_states !== undefined) params.uniqueStates = input.unique_states as EnqueueParams["uniqueStates"];
  if (input.after !== undefined) params.after = input.after;
  if (input.webhook === undefined) {
    if (input.webhook_secret !== undefined || input.webhook_template !== undefined) {
      throw new InputError(input.webhook_secret !== undefined ? "webhook_secret" : "webhook_template", "needs a webhook URL (webhook)");
    }
    return queue.submit(params);
  }
  // The job and its webhook in one transaction: it cannot end before its webhook is set.
  const [outcome] = await submitWithWebhook(queue, params, { url: input.webhook, secret: input.webhook_secret, template: input.webhook_template });
  return outcome!;
}

/**
 * A whole number typed in a form: digits with an optional minus sign, as a
 * person writes it. `1e3`, `0x10`, `5.0` or `1_000` are refused, not read
 * as 1000 or 16 (Number() would take them all).
 */
function formInt(field: string, value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const text = value.trim();
  if (!/^[-+]?\d{1,9}$/.test(text)) throw new InputError(field, `must be a whole number like 5 or -10; got ${JSON.stringify(value)}`);
  return Number(text);
}

const blank = (v: string | undefined) => (v === undefined || v.trim() === "" ? undefined : v.trim());

/** The enqueue form's fields (all strings) as an EnqueueInput. */
export function formToInput(form: Record<string, string | undefined>): EnqueueInput {
  return {
    prompt: form.prompt ?? "",
    cwd: blank(form.cwd) ?? "",
    model: blank(form.model),
    queue: blank(form.queue),
    priority: formInt("priority", form.priority),
    max_attempts: formInt("max_attempts", form.max_attempts),
    delay: blank(form.delay),
    unique_key: blank(form.unique_key),
    // Job ids, separated by commas or white space.
    after: blank(form.after)?.split(/[\s,]+/).filter((id) => id !== ""),
  };
}

/** Most jobs one bulk action touches; a filter matching more is done in several clicks. */
export const BULK_LIMIT = 10_000;

export interface BulkResult {
  action: "retry" | "cancel";
  matched: number;
  changed: number;
  ids: string[];
}

export async function bulkAction(
  sql: Sql, action: "retry" | "cancel", ids: string[] | null, filter: Record<string, string | undefined>,
): Promise<BulkResult> {
  // Everything is checked before anything changes: a bad filter next to a selection is refused too.
  const q = parseListQuery(filter);
  const target = ids !== null ? ids.map((id, i) => validateId(`ids[${i}]`, id)) : await dashJobIds(sql, q, BULK_LIMIT);
  const changed = action === "retry" ? await dashRetryMany(sql, target) : await dashCancelMany(sql, target);
  return { action, matched: target.length, changed: changed.length, ids: changed };
}
