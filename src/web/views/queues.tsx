/** @jsxImportSource @kitajs/html */
// The queues page: every queue with its counts by status, paused or not (by
// whom, since when), and a Pause or Resume button each. The buttons are
// forms (they work without script; the action redirects back) that htmx
// posts in place, getting this table back. The table refreshes every 2 s.

import type { QueueInfo } from "../../queue/queues.ts";
import { Layout, PageHeader } from "./layout.tsx";
import { esc, isoTime, relativeTime } from "./format.ts";
import { BudgetNotices } from "./spend.tsx";
import type { QueueBudget } from "../../queue/budgets.ts";

const COUNTS = ["waiting", "queued", "scheduled", "running", "finished", "failed", "cancelled"] as const;
/** On a phone: the queue, its state, what waits in it, and the button. */
const phoneHidden = (c: string) => (c === "queued" ? "" : " hide-sm-y");

export function QueuesPage(p: { queues: QueueInfo[]; budgets?: QueueBudget[]; notice?: string | null; signedIn?: boolean }) {
  return (
    <Layout title="Queues" active="queues" signedIn={p.signedIn}>
      <PageHeader title="Queues"
        subtitle="A paused queue is claimed by no worker; its running jobs finish and new jobs wait. Live: refreshes every 2 seconds." />
      <QueuesLive queues={p.queues} budgets={p.budgets} notice={p.notice} />
    </Layout>
  );
}

export function QueuesLive(p: { queues: QueueInfo[]; budgets?: QueueBudget[]; notice?: string | null }) {
  const now = new Date();
  return (
    <section id="queues-live" hx-get="/partials/queues" hx-trigger="every 2s" hx-swap="outerHTML">
      {p.notice ? <div class="notice" role="status">{esc(p.notice)}</div> : ""}
      <BudgetNotices budgets={p.budgets ?? []} />
      <div class="card flush">
        {p.queues.length === 0 ? (
          <p class="empty pad">No queues yet: a queue appears with its first job, or when it is paused (<code>claude-jobs queue pause NAME</code>).</p>
        ) : (
          <div class="table-wrap">
            <table class="table">
              <thead>
                <tr>
                  <th>Queue</th><th>State</th>
                  {COUNTS.map((c) => <th class={`num${phoneHidden(c)}`}>{c}</th>)}
                  <th class="hide-sm-y">Paused by</th><th></th>
                </tr>
              </thead>
              <tbody>
                {p.queues.map((q) => <QueueRow q={q} now={now} />)}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </section>
  );
}

function QueueRow({ q, now }: { q: QueueInfo; now: Date }) {
  const path = `/queues/${encodeURIComponent(q.queue)}/${q.paused ? "resume" : "pause"}`;
  return (
    <tr data-queue={q.queue} data-paused={q.paused ? "true" : "false"}>
      <td><a href={`/jobs?queue=${encodeURIComponent(q.queue)}`}>{esc(q.queue)}</a></td>
      <td><span class={`badge ${q.paused ? "s-paused" : "s-active"}`}>{q.paused ? "paused" : "active"}</span></td>
      {COUNTS.map((c) => (
        <td class={`num${phoneHidden(c)}${q[c] === 0 ? " zero" : ""}`}>{String(q[c])}</td>
      ))}
      <td class="hide-sm-y">
        {q.paused ? <span title={isoTime(q.pausedAt)}>{esc(`${q.pausedBy ?? "?"}, ${relativeTime(q.pausedAt, now)}`)}</span> : ""}
      </td>
      <td>
        <form method="post" action={path} class="inline" hx-post={path} hx-target="#queues-live" hx-swap="outerHTML">
          <button class={`button small${q.paused ? " primary" : ""}`} type="submit" data-action={q.paused ? "resume" : "pause"}>
            {q.paused ? "Resume" : "Pause"}
          </button>
        </form>
      </td>
    </tr>
  );
}
