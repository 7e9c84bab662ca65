// The JSON API: stats (with the queued jobs no live worker serves), the job list (the seed's GET /api/jobs?status= shape:
// an array; the next page's cursor in X-Next-Cursor and Link), one job,
// enqueue, retry/cancel/run-now/delete, bulk actions, the live log tail (SSE),
// workers, throughput. Bodies are checked by Elysia schemas (422 naming the
// field), then by the queue's own validation (InputError -> 422).

import { Elysia, t } from "elysia";
import type { AppDeps } from "./app.tsx";
import { dashJobList, dashThroughput } from "../db/dashboard.ts";
import { listUrl, pageOf, parseListQuery, toListParams } from "./list-query.ts";
import { bulkAction, submitFromInput } from "./job-input.ts";
import { tailLogs } from "./logs.ts";
import { unservedJobs } from "./unserved.ts";
import { Schedules, type ScheduleParams } from "../schedule/schedules.ts";
import { Queues } from "../queue/queues.ts";
import { Webhooks } from "../notify/webhooks.ts";
import { Budgets } from "../queue/budgets.ts";
import { InputError } from "../errors.ts";
import { trustedProxies } from "./security.ts";
import { pausedBy } from "./queue-pause.ts";
import { diffJson, FollowUpBody } from "./review.tsx";
import { enqueueFollowUp } from "../review/follow-up.ts";
import { discardWorktree } from "../review/discard.ts";

const UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

// Every leaf schema carries its own `error` message: Elysia otherwise builds
// one with `${value}`, which throws (a 500) for an object holding a
// "toString" key that is not a function, e.g. {"queue": {"toString": ""}}.
const str = (field: string, o: { minLength?: number; maxLength: number; description?: string; pattern?: string }, what = "a string") =>
  t.String({ ...o, error: `${field}: must be ${what} of ${o.minLength ?? 0}-${o.maxLength} characters` });

export const EnqueueBody = t.Object({
  prompt: t.Optional(str("prompt", { minLength: 1, maxLength: 200_000, description: "Claude job: the prompt" })),
  cwd: t.Optional(str("cwd", { minLength: 1, maxLength: 4096, description: "Claude job: an existing directory" })),
  model: t.Optional(str("model", { minLength: 1, maxLength: 200 })),
  kind: t.Optional(str("kind", { minLength: 1, maxLength: 63, description: "default claude" })),
  queue: t.Optional(str("queue", { minLength: 1, maxLength: 63 })),
  // t.Number with multipleOf 1, not t.Integer: Elysia's t.Integer also takes
  // a numeric string ("5") and converts it, which would change what was sent.
  priority: t.Optional(t.Number({ multipleOf: 1, minimum: -1000, maximum: 1000, error: "priority: must be an integer from -1000 to 1000 (a JSON number, not a string)" })),
  max_attempts: t.Optional(t.Number({ multipleOf: 1, minimum: 1, maximum: 1000, error: "max_attempts: must be an integer from 1 to 1000 (a JSON number, not a string)" })),
  delay: t.Optional(t.Union([t.String({ minLength: 1, maxLength: 32 }), t.Number({ multipleOf: 1, minimum: 0 })], { description: 'a duration like "10m", or milliseconds', error: 'delay: must be a duration like "10m" or a number of milliseconds' })),
  run_at: t.Optional(str("run_at", { minLength: 1, maxLength: 64, description: "ISO 8601 time" }, "an ISO 8601 time like 2026-12-01T09:00:00Z, a string")),
  concurrency_key: t.Optional(t.Union([t.String({ minLength: 1, maxLength: 1000 }), t.Null()], { error: "concurrency_key: must be a string of 1-1000 characters, or null" })),
  concurrency_limit: t.Optional(t.Number({ multipleOf: 1, minimum: 1, maximum: 10_000, description: "how many jobs with the concurrency key may run at once", error: "concurrency_limit: must be an integer from 1 to 10000 (a JSON number)" })),
  unique_key: t.Optional(str("unique_key", { minLength: 1, maxLength: 1000, description: "while a job with this key is waiting, queued or running, insert nothing: 200 with the holder and duplicate: true" })),
  unique_states: t.Optional(t.Array(t.String({ maxLength: 16, error: "unique_states: must be job states" }), { maxItems: 6, description: "the states the unique key counts in: queued and running (and waiting, always) plus any of finished, failed, cancelled", error: "unique_states: must be an array of job states" })),
  after: t.Optional(t.Array(t.String({ pattern: UUID_PATTERN, error: "after: must be job ids (UUIDs)" }), { maxItems: 100, description: "jobs to wait for: this one runs when all have finished, and is cancelled if one fails or is cancelled", error: "after: must be an array of at most 100 job ids" })),
  webhook: t.Optional(str("webhook", { minLength: 1, maxLength: 2000, description: "an http(s) URL to POST to when the job ends or is parked (README: Notifications)" })),
  webhook_secret: t.Optional(str("webhook_secret", { minLength: 1, maxLength: 1000, description: "the HMAC secret that signs its deliveries (else the worker's CLAUDE_JOBS_WEBHOOK_SECRET)" })),
  webhook_template: t.Optional(str("webhook_template", { minLength: 1, maxLength: 10_000, description: "a JSON body template with {{field}} placeholders (Slack and the like)" })),
  payload: t.Optional(t.Record(t.String(), t.Unknown(), { description: "the whole payload (other kinds, or extra Claude options)", error: "payload: must be a JSON object" })),
}, { additionalProperties: false, error: "body: must be a JSON object with some of the fields prompt, cwd, model, kind, queue, priority, max_attempts, delay, run_at, concurrency_key, concurrency_limit, unique_key, unique_states, after, webhook, webhook_secret, webhook_template, payload" });

export const BulkBody = t.Object({
  action: t.Union([t.Literal("retry"), t.Literal("cancel")], { error: 'action: must be "retry" or "cancel"' }),
  ids: t.Optional(t.Array(t.String({ pattern: UUID_PATTERN, error: "ids: must be job ids (UUIDs)" }), { maxItems: 1000, error: "ids: must be an array of at most 1000 job ids" })),
  filter: t.Optional(t.Object({
    status: t.Optional(t.String({ error: "filter.status: must be a string" })), queue: t.Optional(t.String({ error: "filter.queue: must be a string" })),
    kind: t.Optional(t.String({ error: "filter.kind: must be a string" })), q: t.Optional(t.String({ error: "filter.q: must be a string" })),
  }, { additionalProperties: false, error: "filter: must be a JSON object with some of the fields status, queue, kind, q" })),
}, { additionalProperties: false, error: "body: must be a JSON object with the field action and some of ids, filter" });

/** POST /api/schedules: a schedule and its job template (the fields of an enqueue, less run_at and delay). */
export const ScheduleBody = t.Object({
  name: str("name", { minLength: 1, maxLength: 100, description: "printable, no '/'; an existing name is replaced" }),
  expression: str("expression", { minLength: 1, maxLength: 200, description: "5-field cron (ranges, lists, steps, names) or @hourly, @daily, ..." }),
  timezone: t.Optional(str("timezone", { minLength: 1, maxLength: 100, description: "IANA time zone of the expression, default UTC" })),
  missed: t.Optional(str("missed", { minLength: 1, maxLength: 16, description: "slots missed while no worker ran: skip, once (default) or all:N" })),
  kind: t.Optional(str("kind", { minLength: 1, maxLength: 63, description: "default claude" })),
  queue: t.Optional(str("queue", { minLength: 1, maxLength: 63 })),
  priority: t.Optional(t.Number({ multipleOf: 1, minimum: -1000, maximum: 1000, error: "priority: must be an integer from -1000 to 1000 (a JSON number, not a string)" })),
  max_attempts: t.Optional(t.Number({ multipleOf: 1, minimum: 1, maximum: 1000, error: "max_attempts: must be an integer from 1 to 1000 (a JSON number, not a string)" })),
  concurrency_key: t.Optional(t.Union([t.String({ minLength: 1, maxLength: 1000 }), t.Null()], { error: "concurrency_key: must be a string of 1-1000 characters, or null" })),
  concurrency_limit: t.Optional(t.Number({ multipleOf: 1, minimum: 1, maximum: 10_000, description: "how many jobs with the concurrency key may run at once", error: "concurrency_limit: must be an integer from 1 to 10000 (a JSON number)" })),
  unique_key: t.Optional(str("unique_key", { minLength: 1, maxLength: 1000, description: "no new job while the last one with this key is waiting, queued or running" })),
  unique_states: t.Optional(t.Array(t.String({ maxLength: 16, error: "unique_states: must be job states" }), { maxItems: 6, description: "the states the unique key counts in: waiting, queued and running always, plus any of finished, failed, cancelled", error: "unique_states: must be an array of job states" })),
  payload: t.Record(t.String(), t.Unknown(), { description: "the job's payload (Claude: prompt, cwd, ...)", error: "payload: must be a JSON object" }),
}, { additionalProperties: false, error: "body: must be a JSON object with the fields name, expression, payload and some of timezone, missed, kind, queue, priority, max_attempts, concurrency_key, concurrency_limit, unique_key, unique_states" });

/** PUT /api/queues/:name/budget: the queue's daily Claude budget and, optionally, the zone of its days. */
export const BudgetBody = t.Object({
  daily_usd: t.Number({ exclusiveMinimum: 0, maximum: 1_000_000, description: "US dollars per day for the queue's Claude jobs (at most 6 decimals)", error: "daily_usd: must be a number of US dollars above 0 and at most 1000000 (a JSON number)" }),
  timezone: t.Optional(str("timezone", { minLength: 1, maxLength: 100, description: "IANA time zone the queue's days are counted in; default: the queue's zone, else UTC" })),
}, { additionalProperties: false, error: "body: must be a JSON object with the field daily_usd and optionally timezone" });

/** GET /api/spend?days=N: 1-366, default 14. */
function spendDays(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,3}$/.test(value)) throw new InputError("days", `must be an integer from 1 to 366; got ${JSON.stringify(value.slice(0, 20))}`);
  return Number(value);
}

function scheduleParams(body: typeof ScheduleBody.static): ScheduleParams {
  const { max_attempts, concurrency_key, concurrency_limit, unique_key, unique_states, ...rest } = body;
  return {
    ...rest,
    ...(max_attempts !== undefined ? { maxAttempts: max_attempts } : {}),
    ...(concurrency_key !== undefined ? { concurrencyKey: concurrency_key } : {}),
    ...(concurrency_limit !== undefined ? { concurrencyLimit: concurrency_limit } : {}),
    ...(unique_key !== undefined ? { uniqueKey: unique_key } : {}),
    ...(unique_states !== undefined ? { uniqueStates: unique_states as ScheduleParams["uniqueStates"] } : {}),
  };
}

export function apiRoutes(deps: AppDeps) {
  const { queue, sql } = deps;
  const schedules = new Schedules(sql);
  const queues = new Queues(sql);
  const budgets = new Budgets(sql);
  const trusted = trustedProxies(deps.trustProxy ?? []);
  const webhooks = new Webhooks(sql);
  return new Elysia({ name: "claude-jobs-api" })
    // unserved: queued jobs that no live worker would claim (no handler for
    // the kind on a worker serving the queue); they would wait in silence.
    .get("/api/stats", async () => {
      const [stats, unserved] = await Promise.all([queue.stats(), unservedJobs(sql, deps.unservedTtlMs)]);
      return { ...stats, unserved };
    })
    .get("/api/jobs", async ({ query, set }) => {
      const q = parseListQuery(query);
      const { jobs, next } = pageOf(await dashJobList(sql, toListParams(q)), q);
      if (next) {
        set.headers["x-next-cursor"] = next;
        set.headers.link = `<${listUrl("/api/jobs", q, { cursor: next, limit: q.limit })}>; rel="next"`;
      }
      return jobs;
    })
    .get("/api/jobs/:id", ({ params }) => queue.get(params.id))
    .get("/api/jobs/:id/dependencies", ({ params }) => queue.dependencies(params.id))
    .get("/api/jobs/:id/deliveries", async ({ params }) => webhooks.deliveries((await queue.get(params.id)).id))
    .post("/api/jobs", async ({ body, set }) => {
      // 201 and the new job; 200 and the job holding the unique key when nothing was inserted.
      const { id, duplicate } = await submitFromInput(queue, body);
      set.status = duplicate ? 200 : 201;
      set.headers.location = `/api/jobs/${id}`;
      return { ...(await queue.get(id)), duplicate };
    }, { body: EnqueueBody })
    .post("/api/jobs/bulk", async ({ body }) => bulkAction(sql, body.action, body.ids ?? null, body.filter ?? {}), { body: BulkBody })
    .post("/api/jobs/:id/retry", ({ params }) => queue.retry(params.id))
    .post("/api/jobs/:id/cancel", ({ params }) => queue.cancel(params.id))
    .post("/api/jobs/:id/run-now", ({ params }) => queue.runNow(params.id))
    .delete("/api/jobs/:id", async ({ params, set }) => {
      await queue.delete(params.id);
      set.status = 204;
      return "";
    })
    // A worktree job: its diff (bounded as on the page; the whole patch is /jobs/:id/patch), a follow-up, discard.
    .get("/api/jobs/:id/diff", ({ params }) => diffJson(deps, params.id))
    .post("/api/jobs/:id/follow-up", async ({ params, body, set }) => {
      const id = await enqueueFollowUp(queue, params.id, body.prompt);
      set.status = 201;
      set.headers.location = `/api/jobs/${id}`;
      return queue.get(id);
    }, { body: FollowUpBody })
    .post("/api/jobs/:id/discard", async ({ params }) => discardWorktree(sql, await queue.get(params.id)))
    .get("/api/jobs/:id/logs", async ({ params, request }) => {
      const job = await queue.get(params.id);
      const stream = tailLogs({
        source: deps.logs, jobId: job.id, signal: request.signal,
        isRunning: async () => (await queue.get(job.id)).status === "running",
      });
      return new Response(stream, {
        headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" },
      });
    })
    .get("/api/workers", () => queue.workers())
    .get("/api/queues", () => queues.list())
    .post("/api/queues/:name/pause", ({ params, request }) => queues.pause(params.name, { by: pausedBy("api", request, trusted) }))
    .post("/api/queues/:name/resume", ({ params }) => queues.resume(params.name))
    // Daily Claude budgets: set (200, the budget with today's spend), clear (200, saying whether there was one).
    .put("/api/queues/:name/budget", ({ params, body }) =>
      budgets.set(params.name, { dailyUsd: body.daily_usd, ...(body.timezone !== undefined ? { timezone: body.timezone } : {}) }).catch((e: unknown) => {
        // The library names its own field; the body's is daily_usd.
        throw e instanceof InputError && e.field === "dailyUsd" ? new InputError("daily_usd", e.message.replace(/^dailyUsd: /, "")) : e;
      }), { body: BudgetBody })
    .delete("/api/queues/:name/budget", ({ params }) => budgets.clear(params.name))
    .get("/api/spend", async ({ query }) => {
      const [days, list] = await Promise.all([budgets.spend({ days: spendDays(query.days) }), budgets.list()]);
      return { days, budgets: list };
    })
    // Recurring jobs: 201 for a new schedule, 200 for one replaced; run makes one job now (201).
    .get("/api/schedules", () => schedules.list())
    .post("/api/schedules", async ({ body, set }) => {
      const { schedule, created } = await schedules.add(scheduleParams(body));
      set.status = created ? 201 : 200;
      set.headers.location = `/api/schedules/${encodeURIComponent(schedule.name)}`;
      return schedule;
    }, { body: ScheduleBody })
    .get("/api/schedules/:name", ({ params }) => schedules.get(params.name))
    .delete("/api/schedules/:name", async ({ params, set }) => {
      await schedules.remove(params.name);
      set.status = 204;
      return "";
    })
    .post("/api/schedules/:name/pause", ({ params }) => schedules.pause(params.name))
    .post("/api/schedules/:name/resume", ({ params }) => schedules.resume(params.name))
    .post("/api/schedules/:name/run", async ({ params, set }) => {
      const { jobId, schedule } = await schedules.runNow(params.name);
      set.status = 201;
      set.headers.location = `/api/jobs/${jobId}`;
      return { jobId, schedule };
    })
    .get("/api/throughput", () => dashThroughput(sql, 60));
}
