/** @jsxImportSource @kitajs/html */
// The dashboard's POST actions (forms, so they work without script): enqueue,
// retry, cancel, run now, delete, and bulk retry/cancel. Each redirects back
// (303) with a fixed notice; bad input re-renders the form naming the field.
// Cross-site posts never get here (security.ts checks Origin first).

import { Elysia } from "elysia";
import type { AppDeps } from "./app.tsx";
import { InputError, NotFoundError } from "../errors.ts";
import { bulkAction, formToInput, submitFromInput } from "./job-input.ts";
import { listUrl, parseListQuery } from "./list-query.ts";
import { EnqueuePage, type EnqueueValues } from "./views/forms.tsx";
import { SchedulesLive } from "./views/schedules.tsx";
import { Schedules } from "../schedule/schedules.ts";
import { discardAction, followUpAction } from "./review.tsx";
import { Queues } from "../queue/queues.ts";
import { trustedProxies } from "./security.ts";
import { pausedBy } from "./queue-pause.ts";
import { QueuesLive } from "./views/queues.tsx";

type Form = Record<string, string | string[] | undefined>;

const redirect = (location: string) => new Response(null, { status: 303, headers: { location } });

/** Form fields as single strings (the first of repeated ones). */
function single(form: Form): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(form ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
}

function many(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

const JOB_ACTIONS = ["retry", "cancel", "run-now", "delete"] as const;

export function actionRoutes(deps: AppDeps) {
  const { queue, sql } = deps;
  const schedules = new Schedules(sql);
  const queues = new Queues(sql);
  const trusted = trustedProxies(deps.trustProxy ?? []);
  return new Elysia({ name: "claude-jobs-actions" })
    // Run a schedule now, pause or resume it: htmx gets the schedules table back, a form a redirect to it.
    .post("/schedules/:name/:action", async ({ params, request }) => {
      const action = params.action;
      if (action !== "run" && action !== "pause" && action !== "resume") throw new NotFoundError(`no schedule action ${action}`);
      let done: string;
      if (action === "run") done = `Schedule ${params.name}: job ${(await schedules.runNow(params.name)).jobId} enqueued.`;
      else if (action === "pause") done = `Schedule ${(await schedules.pause(params.name)).name} paused: no job is enqueued for it until it is resumed.`;
      else done = `Schedule ${(await schedules.resume(params.name)).name} resumed from its next slot.`;
      if (request.headers.get("hx-request") !== "true") return redirect(`/schedules?done=schedule-${action}`);
      return <SchedulesLive schedules={await schedules.list()} notice={done} />;
    })
    // Pause or resume a queue: htmx gets the queues table back, a form a redirect to it.
    .post("/queues/:name/:action", async ({ params, request }) => {
      if (params.action !== "pause" && params.action !== "resume") throw new NotFoundError(`no queue action ${params.action}`);
      const { queue: q } = params.action === "pause"
        ? await queues.pause(params.name, { by: pausedBy("dashboard", request, trusted) })
        : await queues.resume(params.name);
      if (request.headers.get("hx-request") !== "true") return redirect(`/queues?done=queue-${params.action === "pause" ? "paused" : "resumed"}`);
      const done = q.paused ? `Queue ${q.queue} paused: no worker claims its jobs; running jobs finish.` : `Queue ${q.queue} resumed: its jobs run again.`;
      return <QueuesLive queues={await queues.list()} notice={done} />;
    })
    .post("/jobs", async ({ body, set }) => {
      const form = single(body as Form);
      try {
        const { id, duplicate, status } = await submitFromInput(queue, formToInput(form));
        return redirect(`/jobs/${id}?done=${duplicate ? "duplicate" : status === "waiting" ? "enqueued-waiting" : "enqueued"}`);
      } catch (e: unknown) {
        if (!(e instanceof InputError)) throw e;
        set.status = 422;
        return <EnqueuePage values={form as EnqueueValues} error={{ field: e.field, message: e.message }} signedIn={Boolean(deps.token)} />;
      }
    })
    .post("/jobs/bulk", async ({ body }) => {
      const form = (body ?? {}) as Form;
      const f = single(form);
      const [action, scope] = (f.action ?? "").split("-");
      if ((action !== "retry" && action !== "cancel") || (scope !== "selected" && scope !== "matching")) {
        throw new InputError("action", "must be retry-selected, cancel-selected, retry-matching or cancel-matching");
      }
      const filter = { status: f.status, queue: f.queue, kind: f.kind, q: f.q };
      // Checked before anything changes, also when only the redirect uses it (a selection).
      const back = parseListQuery(filter);
      const ids = scope === "selected" ? many(form.ids) : null;
      if (ids !== null && ids.length === 0) throw new InputError("ids", "select at least one job");
      if (ids !== null && ids.length > 1000) throw new InputError("ids", "select at most 1000 jobs");
      const result = await bulkAction(sql, action, ids, filter);
      return redirect(listUrl("/jobs", back, { done: `bulk-${action}`, n: result.changed }));
    })
    // A worktree job's Discard and Follow-up (review.tsx): htmx gets the section again, a plain form a redirect.
    .post("/jobs/:id/discard", ({ params, request }) => discardAction(deps, params.id, request))
    .post("/jobs/:id/follow-up", ({ params, body, request }) => followUpAction(deps, params.id, single(body as Form).prompt, request))
    .post("/jobs/:id/:action", async ({ params }) => {
      const action = params.action as (typeof JOB_ACTIONS)[number];
      if (!JOB_ACTIONS.includes(action)) throw new NotFoundError(`no action ${params.action}`);
      const id = params.id;
      if (action === "delete") {
        await queue.delete(id);
        return redirect("/jobs?done=deleted");
      }
      if (action === "retry") await queue.retry(id);
      if (action === "run-now") await queue.runNow(id);
      if (action === "cancel") {
        const job = await queue.cancel(id);
        return redirect(`/jobs/${job.id}?done=${job.status === "running" ? "cancel-requested" : "cancelled"}`);
      }
      return redirect(`/jobs/${id.toLowerCase()}?done=${action === "retry" ? "retried" : "run-now"}`);
    });
}
