/** @jsxImportSource @kitajs/html */
// The dashboard's pages and the fragments htmx re-fetches: overview, job
// list, job page, workers, enqueue form, raw log files. GET only; every
// change is a POST in actions.ts.

import { Elysia } from "elysia";
import type { AppDeps } from "./app.tsx";
import { NotFoundError } from "../errors.ts";
import { dashFacets, dashJobList, dashThroughput } from "../db/dashboard.ts";
import { usageList } from "../db/usage.ts";
import { unservedJobs } from "./unserved.ts";
import { listUrl, pageOf, parseListQuery, toListParams } from "./list-query.ts";
import { findLogFile, modelFromLogs, readStoredLogs } from "./logs.ts";
import { OverviewLive, OverviewPage, type OverviewData } from "./views/overview.tsx";
import { JobsPage } from "./views/jobs.tsx";
import { JobRows } from "./views/job-rows.tsx";
import { JobLive, JobPage } from "./views/job.tsx";
import { WorkersLive, WorkersPage } from "./views/workers.tsx";
import { SchedulesLive, SchedulesPage } from "./views/schedules.tsx";
import { Schedules } from "../schedule/schedules.ts";
import { QueuesLive, QueuesPage } from "./views/queues.tsx";
import { Queues } from "../queue/queues.ts";
import { Webhooks } from "../notify/webhooks.ts";
import { Budgets, SPEND_DAYS } from "../queue/budgets.ts";
import { lastDays } from "./views/spend.tsx";
import { EnqueuePage } from "./views/forms.tsx";
import { changesPartial, patchResponse, reviewOf } from "./review.tsx";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Fixed texts for the ?done= notice after an action: never the query's own text. */
export const NOTICES: Record<string, string> = {
  enqueued: "Job enqueued.", "enqueued-waiting": "Job enqueued: it waits for the jobs it was enqueued after.",
  duplicate: "Nothing enqueued: this job holds the unique key you gave.", retried: "Job queued again.", cancelled: "Job cancelled.",
  "cancel-requested": "Cancel requested: the worker is stopping the job.", "run-now": "Job is due now.",
  deleted: "Job deleted.", "bulk-retry": "Bulk retry done.", "bulk-cancel": "Bulk cancel done.",
  "schedule-run": "Schedule run: one job enqueued.", "schedule-pause": "Schedule paused.", "schedule-resume": "Schedule resumed from its next slot.",
  "follow-up": "Follow-up enqueued: it resumes the session on the same branch.", discarded: "Worktree and branch discarded.",
  "queue-paused": "Queue paused: no worker claims its jobs; running jobs finish.", "queue-resumed": "Queue resumed: its jobs run again.",
};

function notice(query: Record<string, string | undefined>): string | null {
  const text = NOTICES[query.done ?? ""];
  if (!text) return null;
  const n = Number(query.n);
  return Number.isInteger(n) && n >= 0 && query.done?.startsWith("bulk-") ? `${text} ${n} job${n === 1 ? "" : "s"} changed.` : text;
}

/** A job id from a page URL: not a UUID is "no such job" (404), never a database error. */
function pageId(id: string): string {
  if (!UUID.test(id)) throw new NotFoundError(`no job with id ${id}`);
  return id.toLowerCase();
}

export function pageRoutes(deps: AppDeps) {
  const { queue, sql } = deps;
  const signedIn = Boolean(deps.token);
  const schedules = new Schedules(sql);
  const queues = new Queues(sql);
  const budgets = new Budgets(sql);
  const overview = async (): Promise<OverviewData> => {
    const [stats, throughput, recent, workers, unserved, paused, budgetList, spend, usage] = await Promise.all([
      queue.stats(), dashThroughput(sql, 60), dashJobList(sql, { sort: "newest", limit: 10 }), queue.workers(), unservedJobs(sql, deps.unservedTtlMs),
      queues.paused(), budgets.list(), budgets.spend(), usageList(sql),
    ]);
    const days = lastDays(new Date().toISOString().slice(0, 10), SPEND_DAYS);
    return { stats, throughput, recent, workers: workers.length, unserved, paused, budgets: budgetList, spend: { rows: spend, days }, usage };
  };
  return new Elysia({ name: "claude-jobs-pages" })
    .get("/", async () => <OverviewPage data={await overview()} signedIn={signedIn} />)
    .get("/partials/overview", async () => <OverviewLive data={await overview()} />)
    .get("/jobs", async ({ query }) => {
      const q = parseListQuery(query);
      const [fetched, facets] = await Promise.all([dashJobList(sql, toListParams(q)), dashFacets(sql)]);
      const { jobs, next } = pageOf(fetched, q);
      return (
        <JobsPage query={q} jobs={jobs} facets={facets} signedIn={signedIn} notice={notice(query)}
          moreUrl={next ? listUrl("/partials/jobs", q, { cursor: next }) : null}
          liveUrl={listUrl("/partials/jobs", q)} />
      );
    })
    .get("/partials/jobs", async ({ query }) => {
      const q = parseListQuery(query);
      const { jobs, next } = pageOf(await dashJobList(sql, toListParams(q)), q);
      return <JobRows jobs={jobs} selectable={true} moreUrl={next ? listUrl("/partials/jobs", q, { cursor: next }) : null} />;
    })
    .get("/jobs/new", () => <EnqueuePage values={{}} signedIn={signedIn} />)
    .get("/jobs/:id", async ({ params, query }) => {
      const job = await queue.get(pageId(params.id));
      const logs = await readStoredLogs(deps.logs, job.id);
      // The result names the model the run used; an older or partial one may not, but its output does.
      const outputModel = typeof job.result?.model === "string" && job.result.model !== "" ? null : await modelFromLogs(logs);
      const review = await reviewOf(deps, job);
      const dependencies = await queue.dependencies(job.id);
      const budget = job.kind === "claude" && job.status === "queued" ? await budgets.get(job.queue) : null;
      const deliveries = await new Webhooks(sql).deliveries(job.id);
      return <JobPage job={job} logs={logs} logsConfigured={Boolean(deps.logs)} notice={notice(query)} signedIn={signedIn} outputModel={outputModel} review={review} dependencies={dependencies} budget={budget} deliveries={deliveries} />;
    })
    .get("/jobs/:id/patch", async ({ params }) => patchResponse(await queue.get(pageId(params.id))))
    .get("/partials/jobs/:id/changes", async ({ params }) => changesPartial(deps, await queue.get(pageId(params.id))))
    .get("/partials/jobs/:id", async ({ params }) => <JobLive job={await queue.get(pageId(params.id))} />)
    .get("/jobs/:id/logs/:name", async ({ params }) => {
      const id = pageId(params.id);
      const file = await findLogFile(deps.logs, id, params.name);
      if (!file) throw new NotFoundError(`job ${id} has no log file ${params.name}`);
      return new Response(Bun.file(file.path), {
        headers: { "content-type": "text/plain; charset=utf-8", "content-security-policy": "default-src 'none'; sandbox" },
      });
    })
    .get("/workers", async () => <WorkersPage workers={await queue.workers()} signedIn={signedIn} />)
    .get("/schedules", async ({ query }) => <SchedulesPage schedules={await schedules.list()} notice={notice(query)} signedIn={signedIn} />)
    .get("/partials/schedules", async () => <SchedulesLive schedules={await schedules.list()} />)
    .get("/partials/workers", async () => <WorkersLive workers={await queue.workers()} />)
    .get("/queues", async ({ query }) => <QueuesPage queues={await queues.list()} budgets={await budgets.list()} notice={notice(query)} signedIn={signedIn} />)
    .get("/partials/queues", async () => <QueuesLive queues={await queues.list()} budgets={await budgets.list()} />);
}
