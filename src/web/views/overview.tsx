/** @jsxImportSource @kitajs/html */
// The overview: a warning for each queue and kind whose queued jobs no live
// worker would claim, counts by status, per-queue counts, throughput over
// the last hour and the newest jobs. The live part is one fragment the page re-fetches
// every 2 s (htmx polling), so it never needs a reload.

import type { Stats } from "../../queue/client.ts";
import type { MinuteCounts } from "../../db/dashboard.ts";
import type { JobRecord } from "../../handlers/types.ts";
import { Layout, PageHeader } from "./layout.tsx";
import { ThroughputChart } from "./chart.tsx";
import { JobTable } from "./job-rows.tsx";
import { esc } from "./format.ts";
import { BudgetNotices, SpendCard } from "./spend.tsx";
import { UsageNotices, type AccountUsageRow } from "./usage.tsx";
import type { QueueBudget, SpendRow } from "../../queue/budgets.ts";

export const STATUS_CARDS = ["waiting", "queued", "scheduled", "running", "finished", "failed", "cancelled"] as const;

export interface OverviewData {
  stats: Stats;
  throughput: MinuteCounts[];
  recent: JobRecord[];
  workers: number;
  /** Queued jobs, by queue and kind, that no live worker handles (jobUnserved). */
  unserved: { queue: string; kind: string; jobs: number }[];
  /** The paused queues' names: their rows say so (a paused queue's jobs wait). */
  paused?: string[];
  /** Queues with a daily budget, with today's spend (those over it: why their Claude jobs wait). */
  budgets?: QueueBudget[];
  /** Claude spend per queue and day, and the days the chart shows (oldest first). */
  spend?: { rows: SpendRow[]; days: string[] };
  /** Claude accounts paused on their usage limit, or warned in the last hour (usageList). */
  usage?: AccountUsageRow[];
}

export function OverviewPage(p: { data: OverviewData; signedIn?: boolean }) {
  return (
    <Layout title="Overview" active="overview" signedIn={p.signedIn}>
      <PageHeader title="Overview" subtitle="Live: refreshes every 2 seconds." />
      <OverviewLive data={p.data} />
    </Layout>
  );
}

export function OverviewLive({ data }: { data: OverviewData }) {
  const { stats } = data;
  return (
    <div id="overview-live" hx-get="/partials/overview" hx-trigger="every 2s" hx-swap="outerHTML">
      <Unserved rows={data.unserved} />
      <BudgetNotices budgets={data.budgets ?? []} />
      <UsageNotices accounts={data.usage ?? []} />
      <section class="stat-grid" aria-label="Jobs by status">
        {STATUS_CARDS.map((s) => (
          <a class={`stat s-${s}`} href={`/jobs?status=${s}`} data-status={s}>
            <span class="stat-label">{s}</span>
            <span class="stat-value">{String(stats[s])}</span>
          </a>
        ))}
      </section>
      <div class="two-col">
        <section class="card">
          <div class="card-head">
            <h2>Throughput</h2>
            <span class="muted">{String(data.workers)} live worker{data.workers === 1 ? "" : "s"}</span>
          </div>
          <ThroughputChart minutes={data.throughput} />
        </section>
        <section class="card">
          <div class="card-head"><h2><a href="/queues">Queues</a></h2><span class="muted">{String(stats.total)} jobs</span></div>
          <QueueTable stats={stats} paused={new Set(data.paused ?? [])} />
        </section>
      </div>
      {data.spend ? <SpendCard rows={data.spend.rows} budgets={data.budgets ?? []} days={data.spend.days} /> : ""}
      <section class="card flush">
        <div class="card-head pad"><h2>Newest jobs</h2><a href="/jobs">All jobs →</a></div>
        <JobTable jobs={data.recent} selectable={false} />
      </section>
    </div>
  );
}

/** One warning row per queue and kind that waits in silence: nothing would ever claim those jobs. */
function Unserved({ rows }: { rows: OverviewData["unserved"] }) {
  if (rows.length === 0) return "";
  return (
    <section class="warnings" aria-label="Jobs no worker handles">
      {rows.map((u) => (
        <div class="notice warn" role="alert" data-unserved-queue={u.queue} data-unserved-kind={u.kind}>
          <a href={`/jobs?queue=${encodeURIComponent(u.queue)}&kind=${encodeURIComponent(u.kind)}`}>
            {esc(`${u.jobs} queued job${u.jobs === 1 ? "" : "s"}`)}</a>
          {esc(` of kind ${u.kind} in queue ${u.queue}: no live worker handles this kind on this queue`)}
        </div>
      ))}
    </section>
  );
}

/** On a phone the queue table keeps queued, running and failed. */
const phoneHidden = (status: string) => (["waiting", "scheduled", "finished", "cancelled"].includes(status) ? " hide-sm-y" : "");

function QueueTable({ stats, paused }: { stats: Stats; paused: Set<string> }) {
  if (stats.queues.length === 0) return <p class="empty">No jobs yet. Enqueue one with <a href="/jobs/new">New job</a>.</p>;
  return (
    <div class="table-wrap">
      <table class="table compact">
        <thead>
          <tr><th>Queue</th>{STATUS_CARDS.map((s) => <th class={`num${phoneHidden(s)}`}>{s}</th>)}</tr>
        </thead>
        <tbody>
          {stats.queues.map((q) => (
            <tr data-queue={q.queue} data-paused={paused.has(q.queue) ? "true" : undefined}>
              <td>
                <a href={`/jobs?queue=${encodeURIComponent(q.queue)}`}>{esc(q.queue)}</a>
                {paused.has(q.queue) ? <> <a class="badge s-paused" href="/queues" title="No worker claims its jobs until it is resumed">paused</a></> : ""}
              </td>
              {STATUS_CARDS.map((s) => (
                <td class={`num${phoneHidden(s)}${q[s] === 0 ? " zero" : ""}`}>{String(q[s])}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
