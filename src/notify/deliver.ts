// The delivery task: every worker runs it as a maintenance task (about once
// a second). A tick fails the deliveries whose last attempt was lost with
// its worker, claims the due ones (webhook_claim.sql: SKIP LOCKED, a lease,
// the attempt counted), POSTs them all at once, each with a timeout, and
// records each answer: 2xx delivered; a network error, a timeout, 5xx or 429
// tried again later with exponential backoff (Retry-After honoured, up to
// the cap) until max_attempts; any other answer failed at once. Sending is
// plain async I/O on the worker's event loop and the database work is a few
// short queries, so a slow or dead receiver never holds up a job: it only
// delays the next tick of this task.
//
// "Nothing delivered twice when the receiver answered 2xx": a 2xx is
// recorded at once, and only a worker holding the attempt's lease sends it.
// The one window left is a worker dying between the receiver's 2xx and the
// record (at-least-once, as every outbox): the X-Claude-Jobs-Delivery header
// (the delivery's id) lets a receiver drop the repeat.
//
// No import of src/worker: the task is typed by its shape, which
// src/worker/maintenance.ts's MaintenanceTask accepts.

import type { Sql } from "../db/connect.ts";
import {
  webhookClaim, webhookExpire, webhookForgetOrphan, webhookJobs, webhookRecord, webhookSettingGet, type ClaimedDelivery, type DeliveryOutcome,
} from "../db/webhooks.ts";
import { VERSION } from "../version.ts";
import { eventBody } from "./event.ts";
import { signatureHeader, SIGNATURE_HEADER } from "./sign.ts";
import { renderTemplate } from "./template.ts";

export const WEBHOOK_TASK = "webhooks";
export const WEBHOOK_EVERY_MS = 1000;
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;
/** Deliveries sent at once; a tick that fills its batch claims again, up to MAX_ROUNDS times. */
const BATCH = 20;
const MAX_ROUNDS = 10;
/** What is kept of a receiver's answer for the job page. */
export const RESPONSE_MAX = 2000;
export const BACKOFF_FIRST_MS = 10_000;
export const BACKOFF_CAP_MS = 60 * 60_000;
/** The lease beyond the attempt's timeout: the time to record the answer. */
const LEASE_MARGIN_MS = 60_000;
export const PUBLIC_URL_SETTING = "public_url";

export interface WebhookTaskOptions {
  /** The HMAC key for targets that have none of their own (CLAUDE_JOBS_WEBHOOK_SECRET). */
  secret?: string | null;
  /** The dashboard's public URL for job links; null: the one `dashboard --public-url` stored, if any. */
  publicUrl?: string | null;
  /** The limit of one attempt. */
  timeoutMs?: number;
  everyMs?: number;
}

export interface DeliveryContext {
  /** Runs a query on the worker's bounded connections (WorkerDb.run). */
  db: { run<T>(query: (sql: Sql) => Promise<T>): Promise<T> };
  workerId: number;
  now: () => Date;
  signal: AbortSignal;
  emit: (event: string, data: unknown) => void;
}

/** What a tick did with one delivery (the `maintenance:webhooks` event). */
export interface DeliveryReport {
  id: string;
  jobId: string;
  event: string;
  attempt: number;
  state: DeliveryOutcome["state"];
  statusCode: number | null;
  error: string | null;
  /** False: the lease had run out and another worker owns the delivery; nothing was recorded. */
  recorded: boolean;
}

/** The maintenance task of src/worker/maintenance.ts's builtinMaintenance. */
export function webhookTask(options: WebhookTaskOptions = {}) {
  return {
    name: WEBHOOK_TASK,
    everyMs: options.everyMs ?? WEBHOOK_EVERY_MS,
    run: async (ctx: DeliveryContext): Promise<void> => {
      // A backlog (a receiver back after an outage, a thousand jobs ending at once) drains at up to 200 a tick.
      for (let round = 0; round < MAX_ROUNDS && !ctx.signal.aborted; round++) {
        const reports = await deliverDue(ctx, options);
        for (const report of reports) ctx.emit(`maintenance:${WEBHOOK_TASK}`, report);
        if (reports.length < BATCH) break;
      }
    },
  };
}

/** The wait before attempt `attempt + 1`: 10 s, doubling, at most an hour, ±10% so that retries spread. */
export function webhookBackoffMs(attempt: number, random = Math.random()): number {
  const base = Math.min(BACKOFF_FIRST_MS * 2 ** Math.max(0, attempt - 1), BACKOFF_CAP_MS);
  return Math.round(base * (0.9 + random * 0.2));
}

/** Sends the due deliveries once; what became of each. */
export async function deliverDue(ctx: DeliveryContext, options: WebhookTaskOptions = {}): Promise<DeliveryReport[]> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
  await ctx.db.run((sql) => webhookExpire(sql, ctx.now()));
  if (ctx.signal.aborted) return [];
  const claimed = await ctx.db.run((sql) => webhookClaim(sql, { now: ctx.now(), limit: BATCH, leaseMs: timeoutMs + LEASE_MARGIN_MS, workerId: ctx.workerId }));
  if (claimed.length === 0) return [];
  const needBody = claimed.filter((d) => d.body === null);
  const jobs = needBody.length === 0 ? new Map() : await ctx.db.run((sql) => webhookJobs(sql, [...new Set(needBody.map((d) => d.jobId))]));
  const publicUrl = needBody.length === 0 ? null
    : options.publicUrl ?? await ctx.db.run((sql) => webhookSettingGet(sql, PUBLIC_URL_SETTING));
  return Promise.all(claimed.map(async (d): Promise<DeliveryReport> => {
    const body = d.body ?? bodyOf(d, jobs.get(d.jobId) ?? null, publicUrl);
    const outcome = await attempt(d, body, { secret: d.secret ?? options.secret ?? null, timeoutMs, now: ctx.now, signal: ctx.signal });
    const recorded = await ctx.db.run((sql) => webhookRecord(sql, outcome));
    // The job was deleted while this was pending: no page will show it now.
    if (recorded && outcome.state !== "pending") await ctx.db.run((sql) => webhookForgetOrphan(sql, d.id));
    return { id: d.id, jobId: d.jobId, event: d.event, attempt: d.attempt, state: outcome.state, statusCode: outcome.statusCode, error: outcome.error, recorded };
  }));
}

function bodyOf(d: ClaimedDelivery, job: Parameters<typeof eventBody>[1], publicUrl: string | null): string {
  const event = eventBody({
    jobId: d.jobId, event: d.event, kind: d.kind, queue: d.queue, status: d.jobStatus, error: d.error, occurredAt: d.occurredAt, detail: d.detail,
  }, job, publicUrl);
  return d.template ? renderTemplate(d.template, event) : JSON.stringify(event);
}

interface AttemptOptions {
  secret: string | null;
  timeoutMs: number;
  now: () => Date;
  signal: AbortSignal;
}

/** One POST; never throws: every way it can go is an outcome. */
async function attempt(d: ClaimedDelivery, body: string, o: AttemptOptions): Promise<DeliveryOutcome> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": `claude-jobs/${VERSION}`,
    "x-claude-jobs-event": `job.${d.event}`,
    "x-claude-jobs-delivery": d.id,
    "x-claude-jobs-attempt": String(d.attempt),
  };
  if (o.secret) headers[SIGNATURE_HEADER] = signatureHeader(o.secret, body, o.now());
  const timeout = AbortSignal.timeout(o.timeoutMs);
  const base = { id: d.id, attempt: d.attempt, body };
  try {
    const res = await fetch(d.url, { method: "POST", headers, body, redirect: "manual", signal: AbortSignal.any([timeout, o.signal]) });
    const response = await boundedText(res);
    const endedAt = o.now();
    if (res.status >= 200 && res.status < 300) {
      return { ...base, state: "delivered", retryInMs: null, endedAt, statusCode: res.status, response, error: null };
    }
    const retryable = res.status === 429 || res.status >= 500;
    const error = res.status >= 300 && res.status < 400
      ? `redirected (${res.status}) to ${res.headers.get("location") ?? "?"}; redirects are not followed: configure the final URL`
      : `HTTP ${res.status}${retryable ? "" : " (not retried: the receiver refused the request)"}`;
    return retryable
      ? retry(d, base, endedAt, { statusCode: res.status, response, error }, retryAfterMs(res))
      : { ...base, state: "failed", retryInMs: null, endedAt, statusCode: res.status, response, error };
  } catch (e: unknown) {
    const error = timeout.aborted ? `no answer in ${o.timeoutMs} ms`
      : o.signal.aborted ? "the worker stopped during the attempt"
      : describe(e);
    return retry(d, base, o.now(), { statusCode: null, response: null, error }, null);
  }
}

function retry(
  d: ClaimedDelivery, base: { id: string; attempt: number; body: string }, endedAt: Date,
  answer: { statusCode: number | null; response: string | null; error: string }, afterMs: number | null,
): DeliveryOutcome {
  if (d.attempt >= d.maxAttempts) {
    return { ...base, ...answer, state: "failed", retryInMs: null, endedAt, error: `${answer.error}; gave up after ${d.attempt} attempts` };
  }
  const wait = Math.max(webhookBackoffMs(d.attempt), Math.min(afterMs ?? 0, BACKOFF_CAP_MS));
  return { ...base, ...answer, state: "pending", retryInMs: wait, endedAt };
}

/** Retry-After in seconds (the HTTP-date form is rare for webhooks; it is ignored). */
function retryAfterMs(res: Response): number | null {
  const v = res.headers.get("retry-after");
  return v && /^\d{1,7}$/.test(v.trim()) ? Number(v.trim()) * 1000 : null;
}

/** The first RESPONSE_MAX characters of the answer; the rest is not read. */
async function boundedText(res: Response): Promise<string | null> {
  if (!res.body) return null;
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    while (text.length < RESPONSE_MAX) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    // a body cut short: what came is enough
  } finally {
    void reader.cancel().catch(() => {});
  }
  // PostgreSQL's text holds no NUL.
  text = text.replace(/\u0000/g, "");
  return text.length > RESPONSE_MAX ? text.slice(0, RESPONSE_MAX) : text;
}

function describe(e: unknown): string {
  const err = e as { code?: string; message?: string };
  return [err.code, err.message].filter(Boolean).join(": ") || String(e);
}
