/** @jsxImportSource @kitajs/html */
// The job page: what the job is (prompt, payload), where it stands (status,
// attempts, times: a live fragment re-fetched every 2 s until the job ends),
// its actions, each attempt's error, the Claude result, and its output (live
// tail over SSE while it runs, the stored logs after, readable or raw).

import type { JobRecord } from "../../handlers/types.ts";
import type { StoredLog } from "../logs.ts";
import { Layout, StatusBadge } from "./layout.tsx";
import { renderStream } from "./stream.tsx";
import type { Review } from "../review.tsx";
import { ChangesSection } from "./diff.tsx";
import { ChainSection } from "./chain.tsx";
import { DependenciesSection } from "./deps.tsx";
import { costAgainstBudget, WaitsForBudget } from "./spend.tsx";
import type { QueueBudget } from "../../queue/budgets.ts";
import { UsageLimitLine } from "./usage.tsx";
import type { JobDependencies } from "../../db/jobs.ts";
import { DeliveriesSection } from "./deliveries.tsx";
import type { ShownDelivery } from "../../notify/webhooks.ts";
import {
  displayStatus, esc, formatDuration, isFinal, isoTime, jobDurationMs, jobLabel, relativeTime, shortId,
} from "./format.ts";

export interface JobPageProps {
  job: JobRecord;
  logs: StoredLog[];
  logsConfigured: boolean;
  notice?: string | null;
  signedIn?: boolean;
  /** The model the output's init event names (modelFromLogs), for a result that does not name one. */
  outputModel?: string | null;
  /** A worktree job's changes and chain (src/web/review.tsx); null for other jobs. */
  review?: Review | null;
  /** What the job waits for and what waits for it. */
  dependencies?: JobDependencies | null;
  /** Its webhook deliveries (src/web/views/deliveries.tsx). */
  deliveries?: ShownDelivery[];
  /** Its queue's daily budget, for a queued Claude job (over it: why the job waits). */
  budget?: QueueBudget | null;
}

export function JobPage(p: JobPageProps) {
  const { job } = p;
  const prompt = typeof job.payload.prompt === "string" ? job.payload.prompt : null;
  return (
    <Layout title={`Job ${shortId(job.id)}`} active="jobs" signedIn={p.signedIn}>
      <nav class="crumbs"><a href="/jobs">Jobs</a> / <span class="mono">{esc(job.id)}</span></nav>
      {p.notice ? <div class="notice" role="status">{esc(p.notice)}</div> : ""}
      <WaitsForBudget job={job} budget={p.budget ?? null} />
      <JobLive job={job} />
      {prompt !== null ? (
        <section class="card">
          <h2>Prompt</h2>
          <pre class="prompt-text" data-prompt>{esc(prompt)}</pre>
        </section>
      ) : ""}
      {p.dependencies ? <DependenciesSection job={job} deps={p.dependencies} /> : ""}
      <ResultCard job={job} outputModel={p.outputModel ?? null} />
      {p.review ? <ChangesSection job={job} changes={p.review.changes} discardBlocked={p.review.discardBlocked} /> : ""}
      {p.review?.chain ? <ChainSection job={job} chain={p.review.chain} followUpBlocked={p.review.followUpBlocked} /> : ""}
      {p.deliveries ? <DeliveriesSection deliveries={p.deliveries} /> : ""}
      <Output job={job} logs={p.logs} configured={p.logsConfigured} />
      <section class="card">
        <details>
          <summary><h2 class="inline">Payload</h2></summary>
          <pre class="code">{esc(JSON.stringify(job.payload, null, 2))}</pre>
        </details>
      </section>
    </Layout>
  );
}

/** The part of the page that changes while the job runs. */
export function JobLive({ job }: { job: JobRecord }) {
  const now = new Date();
  const status = displayStatus(job, now);
  const live = isFinal(job) ? {} : { "hx-get": `/partials/jobs/${job.id}`, "hx-trigger": "every 2s", "hx-swap": "outerHTML" };
  return (
    <div id="job-live" data-status={status} {...live}>
      <div class="page-header">
        <div>
          <h1 class="job-title"><span class="mono">{esc(shortId(job.id))}</span> <StatusBadge status={status} />
            {job.cancelRequestedAt && job.status === "running" ? <span class="hint">cancel requested</span> : ""}</h1>
          <p class="muted ellipsis">{esc(jobLabel(job, 160))}</p>
        </div>
        <div class="page-actions"><Actions job={job} status={status} /></div>
      </div>
      <dl class="facts card">
        <Fact label="Kind" value={job.kind} mono />
        <Fact label="Queue" value={job.queue} />
        <Fact label="Priority" value={String(job.priority)} />
        <Fact label="Attempts" value={`${job.attempts} of ${job.maxAttempts}`} />
        <Fact label="Created" value={relativeTime(job.createdAt, now)} title={isoTime(job.createdAt)} />
        <Fact label="Run at" value={relativeTime(job.runAt, now)} title={isoTime(job.runAt)} />
        <Fact label="Started" value={relativeTime(job.startedAt, now)} title={isoTime(job.startedAt)} />
        <Fact label="Ended" value={relativeTime(job.finishedAt, now)} title={isoTime(job.finishedAt)} />
        <Fact label="Duration" value={formatDuration(jobDurationMs(job, now))} />
        <Fact label="Worker" value={job.workerId === null ? "–" : `#${job.workerId}`} />
        {job.concurrencyKey ? <Fact label={job.concurrencyLimit > 1 ? `Concurrency key (at most ${job.concurrencyLimit} at once)` : "Concurrency key"} value={job.concurrencyKey} mono wide /> : ""}
        {job.uniqueKey ? <Fact label="Unique key" value={job.uniqueKey} mono wide /> : ""}
        {job.scheduleName !== null ? (
          <div class="fact wide">
            <dt>Schedule</dt>
            <dd><a href="/schedules">{esc(job.scheduleName)}</a>{job.scheduleSlot ? <span class="muted" title={isoTime(job.scheduleSlot)}>{` slot ${esc(isoTime(job.scheduleSlot))}`}</span> : ""}</dd>
          </div>
        ) : ""}
      </dl>
      <UsageLimitLine job={job} now={now} />
      {job.errors.length > 0 ? (
        <section class="card">
          <h2>Errors by attempt</h2>
          <ol class="errors">
            {job.errors.map((e) => (
              <li>
                <div class="error-head"><strong>Attempt {String(e.attempt)}</strong> <span class="muted">{esc(isoTime(new Date(e.at)))}</span></div>
                <pre class="error-text">{esc(e.message)}</pre>
              </li>
            ))}
          </ol>
        </section>
      ) : ""}
    </div>
  );
}

function Fact(p: { label: string; value: string; title?: string; mono?: boolean; wide?: boolean }) {
  return (
    <div class={p.wide ? "fact wide" : "fact"}>
      <dt>{esc(p.label)}</dt>
      <dd class={p.mono ? "mono" : undefined} title={p.title}>{esc(p.value)}</dd>
    </div>
  );
}

function ActionButton(p: { job: JobRecord; action: string; label: string; cls?: string; confirm?: string }) {
  return (
    <form method="post" action={`/jobs/${p.job.id}/${p.action}`} class="inline" data-confirm={p.confirm}>
      <button class={`button ${p.cls ?? ""}`} type="submit" data-action={p.action}>{esc(p.label)}</button>
    </form>
  );
}

function Actions({ job, status }: { job: JobRecord; status: string }) {
  return (
    <>
      {status === "scheduled" ? <ActionButton job={job} action="run-now" label="Run now" cls="primary" /> : ""}
      {job.status === "failed" || job.status === "cancelled" ? <ActionButton job={job} action="retry" label="Retry" cls="primary" /> : ""}
      {(job.status === "waiting" || job.status === "queued" || job.status === "running") && !job.cancelRequestedAt ? (
        <ActionButton job={job} action="cancel" label="Cancel" cls="danger"
          confirm={job.status === "running" ? "Cancel this running job? Its processes are stopped." : "Cancel this job?"} />
      ) : ""}
      {job.status !== "running" ? (
        <ActionButton job={job} action="delete" label="Delete" cls="ghost danger" confirm="Delete this job and its history? This cannot be undone." />
      ) : ""}
    </>
  );
}

/**
 * The model of the run: the one its result names (from the CLI's init
 * event), else the one its output's init event names, else the one the
 * payload asked for; null if none says.
 */
export function runModel(job: JobRecord, outputModel: string | null): string | null {
  const named = (v: unknown) => (typeof v === "string" && v !== "" && v !== "<synthetic>" ? v : null);
  return named(job.result?.model) ?? named(outputModel) ?? named(job.payload.model);
}

/** A failed run is an error whatever its subtype says (the CLI says "success" for many failures). */
function outcomeOf(r: Record<string, unknown>): string {
  const subtype = typeof r.subtype === "string" ? r.subtype : null;
  if (r.isError === true) return subtype === null || subtype === "success" ? "error" : `error (${subtype})`;
  return subtype ?? "–";
}

function ResultCard({ job, outputModel }: { job: JobRecord; outputModel: string | null }) {
  const r = job.result;
  if (!r) return "";
  const text = typeof r.result === "string" ? r.result : null;
  const known = job.kind === "claude" && ("totalCostUsd" in r || "sessionId" in r);
  return (
    <section class="card">
      <h2>Result</h2>
      {known ? (
        <dl class="facts inner">
          <Fact label="Cost" value={costAgainstBudget(r.totalCostUsd, job.payload.max_budget_usd)} title="against the payload's max_budget_usd, when it set one" />
          <Fact label="Turns" value={r.numTurns == null ? "–" : String(r.numTurns)} />
          <Fact label="Outcome" value={outcomeOf(r)} />
          <Fact label="Model" value={runModel(job, outputModel) ?? "–"} />
          <Fact label="Claude time" value={formatDuration(typeof r.durationMs === "number" ? r.durationMs : null)} />
          <Fact label="Session id" value={String(r.sessionId ?? "–")} mono wide />
        </dl>
      ) : ""}
      {text !== null ? <pre class="final-text" data-final-text>{esc(text)}</pre> : ""}
      <details>
        <summary>Result JSON</summary>
        <pre class="code">{esc(JSON.stringify(r, null, 2))}</pre>
      </details>
    </section>
  );
}

function Output({ job, logs, configured }: { job: JobRecord; logs: StoredLog[]; configured: boolean }) {
  const stdout = logs.filter((l) => l.file.stream === "stdout");
  const stderr = logs.filter((l) => l.file.stream === "stderr" && l.text.trim() !== "");
  if (!configured && job.kind !== "claude") return "";
  return (
    <section class="card">
      <div class="card-head"><h2>Output</h2>{job.status === "running" ? <span class="live-dot">live</span> : ""}</div>
      {!configured ? <p class="muted">No log folder is configured for this dashboard (--log-dir), so only the result is shown.</p> : ""}
      {job.status === "running" && configured ? (
        <div class="log-live" data-log-src={`/api/jobs/${job.id}/logs`}>
          <div class="stream" data-log-items></div>
          <p class="muted" data-log-state>Connecting to the live output…</p>
        </div>
      ) : ""}
      {job.status !== "running" && configured && stdout.length === 0 ? <p class="muted">No output logs for this job.</p> : ""}
      {job.status !== "running" ? stdout.map((l, i) => (
        <details class="attempt-log" open={i === stdout.length - 1}>
          <summary>
            Attempt started {esc(isoTime(l.file.startedAt))} <span class="muted">{esc(`${Math.ceil(l.size / 1024)} KiB`)}{l.truncated ? " (last 1 MiB shown)" : ""}</span>
            <a class="raw-link" href={`/jobs/${job.id}/logs/${encodeURIComponent(l.file.name)}`}>raw</a>
          </summary>
          <div class="stream">{renderStream(l.text)}</div>
        </details>
      )) : ""}
      {stderr.map((l) => (
        <details class="attempt-log">
          <summary>stderr {esc(isoTime(l.file.startedAt))} <a class="raw-link" href={`/jobs/${job.id}/logs/${encodeURIComponent(l.file.name)}`}>raw</a></summary>
          <pre class="code">{esc(l.text)}</pre>
        </details>
      ))}
    </section>
  );
}
