// The webhooks API: a job's own webhook (set in the transaction that
// enqueues it), a queue's webhook, the deliveries of a job, and the parked
// event for parks the outbox trigger cannot see. Every input is checked
// first (InputError naming the field); a bad one changes nothing.

import type { Queryable, Sql } from "../db/connect.ts";
import {
  webhookDeliveries, webhookEvent, webhookJobSet, webhookQueueClear, webhookQueueList, webhookQueueSet, webhookSettingSet,
  type DeliveryView, type QueueWebhook, type WebhookEventName, type WebhookTarget,
} from "../db/webhooks.ts";
import type { EnqueueOutcome, EnqueueParams, Queue } from "../queue/client.ts";
import { validateId, validateQueueName } from "../queue/validate.ts";
import { PUBLIC_URL_SETTING } from "./deliver.ts";
import { redactWebhookUrl, validateTarget, validateWebhookUrl } from "./target.ts";

export type { DeliveryView, QueueWebhook, WebhookTarget };

/** A webhook as given (unchecked): a URL, and optionally a secret and a body template. */
export interface WebhookInput {
  url: unknown;
  secret?: unknown;
  template?: unknown;
}

const FIELDS = { url: "webhook", secret: "webhook_secret", template: "webhook_template" };

/**
 * Enqueues jobs with a webhook of their own, all in one transaction: a job
 * cannot end before its webhook is set, and a bad webhook enqueues nothing.
 * Duplicates (a unique key held) get none: they are another job.
 */
export async function submitWithWebhook(
  queue: Queue, jobs: EnqueueParams | EnqueueParams[], webhook: WebhookInput, fields: { url: string; secret: string; template: string } = FIELDS,
): Promise<EnqueueOutcome[]> {
  const target = validateTarget(fields, webhook);
  return queue.sql.begin(async (tx) => {
    // One job as `submit` takes it (errors name its fields), a list as `submitMany` (jobs[i].field).
    const outcomes = Array.isArray(jobs) ? await queue.submitMany(jobs, { tx }) : [await queue.submit(jobs, { tx })];
    await webhookJobSet(tx, outcomes.filter((o) => !o.duplicate).map((o) => o.id), target);
    return outcomes;
  }) as Promise<EnqueueOutcome[]>;
}

/**
 * Writes the outbox rows of a `parked` event for the job's own webhook and
 * its queue's, in the caller's transaction. The Claude handler's parks need
 * no call (the trigger sees result.usageLimit.parkedAt change as the job is
 * requeued); this is for a park made some other way, e.g. by a handler of
 * its own or an SQL script. Returns how many deliveries.
 */
export function recordWebhookEvent(tx: Queryable, jobId: string, event: Extract<WebhookEventName, "parked">, detail: Record<string, unknown> = {}): Promise<number> {
  return webhookEvent(tx, jobId, event, detail);
}

/** A delivery as shown to people: the URL without its path (it may be a credential). */
export type ShownDelivery = Omit<DeliveryView, "url"> & { url: string };

export class Webhooks {
  constructor(readonly sql: Sql) {}

  /** `fields`: the names errors give the inputs (the CLI's flags, say). */
  async setQueue(name: string, input: WebhookInput, fields = { url: "url", secret: "secret", template: "template" }): Promise<QueueWebhook> {
    const queue = validateQueueName("queue", name);
    const target = validateTarget(fields, input);
    return webhookQueueSet(this.sql, queue, target);
  }

  /** Null when the queue had no webhook. */
  async clearQueue(name: string): Promise<QueueWebhook | null> {
    return webhookQueueClear(this.sql, validateQueueName("queue", name));
  }

  async queues(name?: string): Promise<QueueWebhook[]> {
    return webhookQueueList(this.sql, name === undefined ? null : validateQueueName("queue", name));
  }

  /** A job's deliveries with their attempts, oldest first (at most 100); URLs redacted. */
  async deliveries(jobId: string): Promise<ShownDelivery[]> {
    const rows = await webhookDeliveries(this.sql, validateId("id", jobId));
    return rows.map((d) => ({ ...d, url: redactWebhookUrl(d.url) }));
  }

  /** Stores the dashboard's public URL, for the job links of every worker's events. */
  async setPublicUrl(url: string): Promise<string> {
    const checked = validateWebhookUrl("--public-url", url);
    await webhookSettingSet(this.sql, PUBLIC_URL_SETTING, checked);
    return checked;
  }
}
