/** @jsxImportSource @kitajs/html */
// The schedules page: every recurring schedule with its expression and time
// zone, the job it enqueues, its next run, its last run and that run's job
// (linked), and Run now and Pause/Resume buttons. The buttons are forms
// (they work without script; the action redirects back) that htmx posts in
// place, getting this table back. The table refreshes every 5 s. Every
// piece of schedule data goes through esc, in attributes too (the JSX
// escapes only '"' there): names and payloads are anyone's text.

import type { ScheduleInfo } from "../../schedule/schedules.ts";
import { Layout, PageHeader, StatusBadge } from "./layout.tsx";
import { esc, isoTime, relativeTime, shortId } from "./format.ts";

export function SchedulesPage(p: { schedules: ScheduleInfo[]; notice?: string | null; signedIn?: boolean }) {
  return (
    <Layout title="Schedules" active="schedules" signedIn={p.signedIn}>
      <PageHeader title="Schedules"
        subtitle="Recurring jobs: each slot of a schedule enqueues one job, whatever the number of workers. Live: refreshes every 5 seconds." />
      <SchedulesLive schedules={p.schedules} notice={p.notice} />
    </Layout>
  );
}

export function SchedulesLive(p: { schedules: ScheduleInfo[]; notice?: string | null }) {
  const now = new Date();
  return (
    <section id="schedules-live" hx-get="/partials/schedules" hx-trigger="every 5s" hx-swap="outerHTML">
      {p.notice ? <div class="notice" role="status">{esc(p.notice)}</div> : ""}
      <div class="card flush">
        {p.schedules.length === 0 ? (
          <p class="empty pad">No schedules yet. Add one with <code>claude-jobs cron add NAME "0 9 * * MON-FRI" --payload=...</code> or POST /api/schedules.</p>
        ) : (
          <div class="table-wrap">
            <table class="table">
              <thead>
                <tr>
                  <th>Schedule</th><th>When</th><th>State</th><th class="hide-sm-y">Job</th>
                  <th>Next run</th><th>Last run</th><th></th>
                </tr>
              </thead>
              <tbody>
                {p.schedules.map((s) => <ScheduleRow s={s} now={now} />)}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </section>
  );
}

function payloadText(s: ScheduleInfo, max = 80): string {
  const prompt = typeof s.job.payload.prompt === "string" ? s.job.payload.prompt : JSON.stringify(s.job.payload);
  const flat = prompt.replace(/\s+/g, " ").trim();
  return flat.length > max ? flat.slice(0, max - 1) + "…" : flat;
}

/** "in 5m"; a slot already past is waiting for a worker's tick (none runs, if it stays so). */
function nextRun(at: Date | null, now: Date): string {
  if (!at) return "none to come";
  return at.getTime() < now.getTime() - 5000 ? `due ${relativeTime(at, now)}: no worker has run it yet` : relativeTime(at, now);
}

function ScheduleRow({ s, now }: { s: ScheduleInfo; now: Date }) {
  const base = `/schedules/${encodeURIComponent(s.name)}`;
  const toggle = s.paused ? "resume" : "pause";
  return (
    <tr data-schedule={esc(s.name)} data-paused={s.paused ? "true" : "false"}>
      <td class="schedule-name">{esc(s.name)}</td>
      <td>
        <code>{esc(s.expression)}</code>
        <div class="muted small">{esc(`${s.timezone} · missed: ${s.missed}`)}</div>
      </td>
      <td><span class={`badge ${s.paused ? "s-paused" : "s-active"}`}>{s.paused ? "paused" : "active"}</span></td>
      <td class="hide-sm-y">
        <div>{esc(`${s.job.kind} on ${s.job.queue}`)}</div>
        <div class="muted small schedule-payload" title={esc(JSON.stringify(s.job.payload))}>{esc(payloadText(s))}</div>
      </td>
      <td>
        {s.paused ? <span class="muted">paused</span>
          : <span title={isoTime(s.nextRunAt)}>{esc(nextRun(s.nextRunAt, now))}</span>}
      </td>
      <td>
        {s.lastJobId ? (
          <span class="last-run">
            <span title={isoTime(s.lastRunAt)}>{esc(relativeTime(s.lastRunAt, now))}</span>{" "}
            <a href={`/jobs/${s.lastJobId}`} class="mono" data-last-job={s.lastJobId}>{esc(shortId(s.lastJobId))}</a>{" "}
            {s.lastJobStatus ? <StatusBadge status={s.lastJobStatus} /> : <span class="muted">deleted</span>}
          </span>
        ) : <span class="muted">never</span>}
      </td>
      <td class="actions">
        <form method="post" action={`${base}/run`} class="inline" hx-post={`${base}/run`} hx-target="#schedules-live" hx-swap="outerHTML">
          <button class="button small primary" type="submit" data-action="run">Run now</button>
        </form>{" "}
        <form method="post" action={`${base}/${toggle}`} class="inline" hx-post={`${base}/${toggle}`} hx-target="#schedules-live" hx-swap="outerHTML">
          <button class="button small" type="submit" data-action={toggle}>{s.paused ? "Resume" : "Pause"}</button>
        </form>
      </td>
    </tr>
  );
}
