// Typed wrappers around sql/queries/webhook_*.sql: the webhooks of jobs and
// queues, the outbox of deliveries (claim, record, list), and the settings
// the deliveries read (the dashboard's public URL). Secrets are written here
// and read only by the claim, which hands them to the signer.

import type { Queryable } from "./connect.ts";
import type { JobRecord } from "../handlers/types.ts";
import { rowToJob } from "./jobs.ts";
import jobSet from "../../sql/queries/webhook_job_set.sql" with { type: "text" };
import queueSet from "../../sql/queries/webhook_queue_set.sql" with { type: "text" };
import queueClear from "../../sql/queries/webhook_queue_clear.sql" with { type: "text" };
import queueList from "../../sql/queries/webhook_queue_list.sql" with { type: "text" };
import event from "../../sql/queries/webhook_event.sql" with { type: "text" };
import expire from "../../sql/queries/webhook_expire.sql" with { type: "text" };
import claim from "../../sql/queries/webhook_claim.sql" with { type: "text" };
import record from "../../sql/queries/webhook_record.sql" with { type: "text" };
import jobs from "../../sql/queries/webhook_jobs.sql" with { type: "text" };
import deliveries from "../../sql/queries/webhook_deliveries.sql" with { type: "text" };
import settingGet from "../../sql/queries/webhook_setting_get.sql" with { type: "text" };
import settingSet from "../../sql/queries/webhook_setting_set.sql" with { type: "text" };
import forgetOrphan from "../../sql/queries/webhook_forget_orphan.sql" with { type: "text" };

type Row = Record<string, unknown>;

async function run(sql: Queryable, text: string, params: unknown[]): Promise<Row[]> {
  return (await sql.unsafe(text, params as never[], { prepare: true })) as unknown as Row[];
}

/** Where an event is sent: a URL, the HMAC key (null: the worker's global one), a body template (null: the full event). */
export interface WebhookTarget {
  url: string;
  secret: string | null;
  template: string | null;
}

/** A queue's webhook as shown (never its secret). */
export interface QueueWebhook {
  queue: string;
  url: string;
  hasSecret: boolean;
  template: string | null;
  updatedAt: Date;
}

export type WebhookEventName = "finished" | "failed" | "cancelled" | "parked";
export type DeliveryState = "pending" | "delivered" | "failed";

/** A claimed outbox row: what the delivery task sends. */
export interface ClaimedDelivery extends WebhookTarget {
  id: string;
  jobId: string;
  event: WebhookEventName;
  source: "job" | "queue";
  kind: string;
  queue: string;
  jobStatus: string;
  error: string | null;
  detail: Record<string, unknown>;
  occurredAt: Date;
  /** The body of an earlier attempt: retries send the same bytes. */
  body: string | null;
  attempt: number;
  maxAttempts: number;
}

export interface DeliveryAttempt {
  attempt: number;
  workerId: number | null;
  startedAt: string;
  endedAt: string | null;
  statusCode: number | null;
  response: string | null;
  error: string | null;
}

/** A delivery as the job page and the API show it (the URL as stored: the caller redacts it). */
export interface DeliveryView {
  id: string;
  event: WebhookEventName;
  source: "job" | "queue";
  url: string;
  state: DeliveryState;
  attempts: number;
  maxAttempts: number;
  nextAttemptAt: Date;
  occurredAt: Date;
  deliveredAt: Date | null;
  lastStatus: number | null;
  lastError: string | null;
  templated: boolean;
  attemptLog: DeliveryAttempt[];
}

export interface DeliveryOutcome {
  id: string;
  attempt: number;
  state: DeliveryState;
  /** The wait before trying again (state pending), from endedAt (or the database's now, when later). */
  retryInMs: number | null;
  endedAt: Date;
  statusCode: number | null;
  response: string | null;
  error: string | null;
  body: string;
}

const toQueueWebhook = (r: Row): QueueWebhook => ({
  queue: r.queue as string, url: r.url as string, hasSecret: r.has_secret as boolean,
  template: (r.template as string | null) ?? null, updatedAt: r.updated_at as Date,
});

export async function webhookJobSet(sql: Queryable, jobIds: string[], target: WebhookTarget): Promise<void> {
  if (jobIds.length === 0) return;
  await run(sql, jobSet, [jobIds, target.url, target.secret, target.template]);
}

export async function webhookQueueSet(sql: Queryable, queue: string, target: WebhookTarget): Promise<QueueWebhook> {
  return toQueueWebhook((await run(sql, queueSet, [queue, target.url, target.secret, target.template]))[0]!);
}

/** Null when the queue had no webhook. */
export async function webhookQueueClear(sql: Queryable, queue: string): Promise<QueueWebhook | null> {
  const row = (await run(sql, queueClear, [queue]))[0];
  return row ? toQueueWebhook(row) : null;
}

export async function webhookQueueList(sql: Queryable, queue: string | null = null): Promise<QueueWebhook[]> {
  return (await run(sql, queueList, [queue])).map(toQueueWebhook);
}

/** Writes the outbox rows of an event of a job (one per target); how many. */
export async function webhookEvent(sql: Queryable, jobId: string, name: WebhookEventName, detail: Record<string, unknown>): Promise<number> {
  return Number((await run(sql, event, [jobId, name, JSON.stringify(detail)]))[0]?.n ?? 0);
}

export async function webhookExpire(sql: Queryable, now: Date): Promise<string[]> {
  return (await run(sql, expire, [now])).map((r) => String(r.id));
}

export async function webhookClaim(sql: Queryable, p: { now: Date; limit: number; leaseMs: number; workerId: number }): Promise<ClaimedDelivery[]> {
  const rows = await run(sql, claim, [p.now, p.limit, Math.ceil(p.leaseMs), p.workerId]);
  return rows.map((r) => ({
    id: String(r.id), jobId: r.job_id as string, event: r.event as WebhookEventName, source: r.source as "job" | "queue",
    url: r.url as string, secret: (r.secret as string | null) ?? null, template: (r.template as string | null) ?? null,
    kind: r.kind as string, queue: r.queue as string, jobStatus: r.job_status as string, error: (r.error as string | null) ?? null,
    detail: (r.detail as Record<string, unknown>) ?? {}, occurredAt: r.occurred_at as Date, body: (r.body as string | null) ?? null,
    attempt: r.attempts as number, maxAttempts: r.max_attempts as number,
  }));
}

/** Records an attempt's answer; false when the attempt was no longer the delivery's own (its lease ran out). */
export async function webhookRecord(sql: Queryable, o: DeliveryOutcome): Promise<boolean> {
  const rows = await run(sql, record, [o.id, o.attempt, o.state, o.retryInMs, o.endedAt, o.statusCode, o.response, o.error, o.body]);
  return rows.length > 0;
}

/** Deletes a done delivery whose job is gone; true when it did. */
export async function webhookForgetOrphan(sql: Queryable, id: string): Promise<boolean> {
  return (await run(sql, forgetOrphan, [id])).length > 0;
}

export async function webhookJobs(sql: Queryable, ids: string[]): Promise<Map<string, JobRecord>> {
  if (ids.length === 0) return new Map();
  return new Map((await run(sql, jobs, [ids])).map((r) => [r.id as string, rowToJob(r)]));
}

export async function webhookDeliveries(sql: Queryable, jobId: string): Promise<DeliveryView[]> {
  return (await run(sql, deliveries, [jobId])).map((r) => ({
    id: String(r.id), event: r.event as WebhookEventName, source: r.source as "job" | "queue", url: r.url as string,
    state: r.state as DeliveryState, attempts: r.attempts as number, maxAttempts: r.max_attempts as number,
    nextAttemptAt: r.next_attempt_at as Date, occurredAt: r.occurred_at as Date, deliveredAt: (r.delivered_at as Date | null) ?? null,
    lastStatus: (r.last_status as number | null) ?? null, lastError: (r.last_error as string | null) ?? null,
    templated: r.templated as boolean, attemptLog: (r.attempt_log as DeliveryAttempt[]) ?? [],
  }));
}

export async function webhookSettingGet(sql: Queryable, name: string): Promise<string | null> {
  return ((await run(sql, settingGet, [name]))[0]?.value as string | undefined) ?? null;
}

export async function webhookSettingSet(sql: Queryable, name: string, value: string): Promise<void> {
  await run(sql, settingSet, [name, value]);
}
