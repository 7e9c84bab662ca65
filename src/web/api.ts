// The JSON API: stats, the job list (the seed's GET /api/jobs?status= shape:
// an array; the next page's cursor in X-Next-Cursor and Link), one job,
// enqueue, retry/cancel/run-now/delete, bulk actions, the live log tail (SSE),
// workers, throughput. Bodies are checked by Elysia schemas (422 naming the
// field), then by the queue's own validation (InputError -> 422).

import { Elysia, t } from "elysia";
import type { AppDeps } from "./app.tsx";
import { dashJobList, dashThroughput } from "../db/dashboard.ts";
import { listUrl, nextCursor, parseListQuery, toListParams } from "./list-query.ts";
import { bulkAction, enqueueFromInput } from "./job-input.ts";
import { tailLogs } from "./logs.ts";

const UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

export const EnqueueBody = t.Object({
  prompt: t.Optional(t.String({ minLength: 1, maxLength: 200_000, description: "Claude job: the prompt" })),
  cwd: t.Optional(t.String({ minLength: 1, maxLength: 4096, description: "Claude job: an existing directory" })),
  model: t.Optional(t.String({ minLength: 1, maxLength: 200 })),
  kind: t.Optional(t.String({ minLength: 1, maxLength: 63, description: "default claude" })),
  queue: t.Optional(t.String({ minLength: 1, maxLength: 63 })),
  priority: t.Optional(t.Integer({ minimum: -1000, maximum: 1000, error: "priority: must be an integer from -1000 to 1000" })),
  max_attempts: t.Optional(t.Integer({ minimum: 1, maximum: 1000, error: "max_attempts: must be an integer from 1 to 1000" })),
  delay: t.Optional(t.Union([t.String({ minLength: 1, maxLength: 32 }), t.Integer({ minimum: 0 })], { description: 'a duration like "10m", or milliseconds', error: 'delay: must be a duration like "10m" or a number of milliseconds' })),
  run_at: t.Optional(t.String({ minLength: 1, maxLength: 64, description: "ISO 8601 time" })),
  concurrency_key: t.Optional(t.Union([t.String({ minLength: 1, maxLength: 1000 }), t.Null()])),
  payload: t.Optional(t.Record(t.String(), t.Unknown(), { description: "the whole payload (other kinds, or extra Claude options)" })),
}, { additionalProperties: false });

export const BulkBody = t.Object({
  action: t.Union([t.Literal("retry"), t.Literal("cancel")]),
  ids: t.Optional(t.Array(t.String({ pattern: UUID_PATTERN }), { maxItems: 1000 })),
  filter: t.Optional(t.Object({
    status: t.Optional(t.String()), queue: t.Optional(t.String()), kind: t.Optional(t.String()), q: t.Optional(t.String()),
  }, { additionalProperties: false })),
}, { additionalProperties: false });

export function apiRoutes(deps: AppDeps) {
  const { queue, sql } = deps;
  return new Elysia({ name: "claude-jobs-api" })
    .get("/api/stats", () => queue.stats())
    .get("/api/jobs", async ({ query, set }) => {
      const q = parseListQuery(query);
      const jobs = await dashJobList(sql, toListParams(q));
      const next = nextCursor(jobs, q);
      if (next) {
        set.headers["x-next-cursor"] = next;
        set.headers.link = `<${listUrl("/api/jobs", q, { cursor: next, limit: q.limit })}>; rel="next"`;
      }
      return jobs;
    })
    .get("/api/jobs/:id", ({ params }) => queue.get(params.id))
    .post("/api/jobs", async ({ body, set }) => {
      const id = await enqueueFromInput(queue, body);
      set.status = 201;
      set.headers.location = `/api/jobs/${id}`;
      return queue.get(id);
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
    .get("/api/throughput", () => dashThroughput(sql, 60));
}
