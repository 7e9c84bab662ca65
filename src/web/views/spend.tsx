/** @jsxImportSource @kitajs/html */
// What Claude jobs spend, for the dashboard: the overview's chart of the last
// 14 days per queue (stacked bars, an inline SVG drawn on the server like the
// throughput chart: no script, no library), the notices of queues over their
// daily budget (the reason their Claude jobs wait), and a job's cost against
// its own max_budget_usd. Queue names are job data: escaped in text and in
// attributes.

import type { QueueBudget, SpendRow } from "../../queue/budgets.ts";
import type { JobRecord } from "../../handlers/types.ts";
import { niceMax } from "./chart.tsx";
import { esc, formatUsd } from "./format.ts";

const W = 720;
const H = 160;
const PAD = { top: 10, right: 8, bottom: 22, left: 44 };
/** Distinct in light and dark themes; a queue keeps its colour while the set of queues shown stays the same. */
const PALETTE = ["#3b82f6", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#06b6d4", "#ec4899", "#84cc16"];
const OTHERS = "#94a3b8";

/** "$0.4200 of $1.00 (42%)": a Claude job's cost against the payload's max_budget_usd, when it set one. */
export function costAgainstBudget(cost: unknown, maxBudget: unknown): string {
  if (typeof maxBudget !== "number" || !(maxBudget > 0)) return formatUsd(cost);
  if (typeof cost !== "number" || !Number.isFinite(cost)) return `– of ${formatUsd(maxBudget)}`;
  return `${formatUsd(cost)} of ${formatUsd(maxBudget)} (${Math.round((cost / maxBudget) * 100)}%)`;
}

/** The last `count` UTC dates, oldest first, ending with `today` (YYYY-MM-DD). */
export function lastDays(today: string, count: number): string[] {
  const end = Date.parse(`${today}T00:00:00Z`);
  return Array.from({ length: count }, (_, i) => new Date(end - (count - 1 - i) * 86_400_000).toISOString().slice(0, 10));
}

/** One notice per queue over its daily budget: why its Claude jobs wait, and until when. */
export function BudgetNotices({ budgets }: { budgets: QueueBudget[] }) {
  const over = budgets.filter((b) => b.reason !== null);
  if (over.length === 0) return "";
  return (
    <section class="warnings" aria-label="Queues over budget">
      {over.map((b) => (
        <div class="notice warn" role="status" data-over-budget={esc(b.queue)}>
          {esc(`Queue ${b.queue}: ${b.reason} (spent ${formatUsd(b.spentTodayUsd)} of ${formatUsd(b.dailyUsd)} today); its Claude jobs wait.`)}
        </div>
      ))}
    </section>
  );
}

/** On the page of a queued Claude job whose queue is over its budget: why it waits, and until when. */
export function WaitsForBudget({ job, budget }: { job: JobRecord; budget: QueueBudget | null }) {
  if (job.kind !== "claude" || job.status !== "queued" || !budget?.reason) return "";
  return (
    <div class="notice warn" role="status" data-waits-for-budget>
      {esc(`Queue ${job.queue} is ${budget.reason} (spent ${formatUsd(budget.spentTodayUsd)} of ${formatUsd(budget.dailyUsd)} today): this Claude job waits for its next day.`)}
    </div>
  );
}

/**
 * Spend per day over the days given, one stacked bar per day, one colour per
 * queue (the 7 costliest queues; the rest as "others"). A day is each queue's
 * own (in its zone), as recorded.
 */
export function SpendChart({ rows, days }: { rows: SpendRow[]; days: string[] }) {
  const byQueue = new Map<string, number>();
  for (const r of rows) byQueue.set(r.queue, (byQueue.get(r.queue) ?? 0) + r.costUsd);
  const ranked = [...byQueue].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([q]) => q);
  const named = ranked.length <= PALETTE.length ? ranked : ranked.slice(0, PALETTE.length - 1);
  const colour = (q: string) => PALETTE[named.indexOf(q)] ?? OTHERS;
  const series = (q: string) => (named.includes(q) ? q : "others");
  const perDay = days.map((day) => {
    const parts = new Map<string, number>();
    for (const r of rows) if (r.day === day) parts.set(series(r.queue), (parts.get(series(r.queue)) ?? 0) + r.costUsd);
    return { day, parts: [...parts].sort((a, b) => (a[0] < b[0] ? -1 : 1)), total: [...parts.values()].reduce((s, v) => s + v, 0) };
  });
  const top = niceMax(Math.max(0, ...perDay.map((d) => d.total)));
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const slot = innerW / Math.max(1, days.length);
  const barW = Math.max(1, slot - 6);
  const y = (v: number) => PAD.top + innerH - (v / top) * innerH;
  const total = perDay.reduce((s, d) => s + d.total, 0);
  const legend = [...named, ...(ranked.length > named.length ? ["others"] : [])];
  // The legend is outside the figure: .chart svg is a full-width block, and each
  // swatch is a small inline SVG coloured by attribute (the CSP allows no inline style).
  return (
    <>
    <figure class="chart" data-spend-chart>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={esc(`Claude spend per day over the last ${days.length} days: ${formatUsd(total)}`)}>
        {[0, 0.5, 1].map((f) => (
          <g>
            <line class="grid" x1={PAD.left} x2={W - PAD.right} y1={y(top * f)} y2={y(top * f)} />
            <text class="axis" x={PAD.left - 6} y={y(top * f) + 4} text-anchor="end">{esc(`$${top * f}`)}</text>
          </g>
        ))}
        {perDay.map((d, i) => {
          const x = PAD.left + i * slot + 3;
          let base = 0;
          return (
            <g data-day={d.day}>
              <title>{esc(`${d.day}: ${formatUsd(d.total)}${d.parts.map(([q, v]) => `\n${q}: ${formatUsd(v)}`).join("")}`)}</title>
              {d.parts.map(([q, v]) => {
                const y0 = y(base);
                base += v;
                return <rect x={x} width={barW} y={y(base)} height={Math.max(0, y0 - y(base))} fill={q === "others" ? OTHERS : colour(q)} data-queue={esc(q)} />;
              })}
              {i % 2 === 0 || i === days.length - 1 ? (
                <text class="axis" x={x + barW / 2} y={H - 6} text-anchor="middle">{esc(d.day.slice(5))}</text>
              ) : ""}
            </g>
          );
        })}
      </svg>
      <figcaption>
        <span class="muted">{esc(`${formatUsd(total)} over the last ${days.length} days, per day (each queue's day, UTC unless it has a zone)`)}</span>
      </figcaption>
    </figure>
    <p class="spend-legend">
      {legend.map((q) => (
        <span class="legend-queue" data-legend-queue={esc(q)}>
          <svg width="10" height="10" aria-hidden="true"><rect width="10" height="10" rx="2" fill={q === "others" ? OTHERS : colour(q)} /></svg>
          {" "}{esc(q)}{"   "}
        </span>
      ))}
    </p>
    </>
  );
}

/** The spend card: the chart and, per queue, today's spend against its budget and the 14 days' totals. */
export function SpendCard({ rows, budgets, days }: { rows: SpendRow[]; budgets: QueueBudget[]; days: string[] }) {
  const queues = [...new Set([...rows.map((r) => r.queue), ...budgets.filter((b) => b.dailyUsd !== null).map((b) => b.queue)])].sort();
  const sum = (q: string, key: "costUsd" | "inputTokens" | "outputTokens" | "turns") =>
    rows.filter((r) => r.queue === q).reduce((s, r) => s + r[key], 0);
  return (
    <section class="card" id="spend">
      <div class="card-head"><h2>Claude spend</h2><span class="muted">last {String(days.length)} days</span></div>
      {queues.length === 0 ? <p class="empty">No Claude spend recorded yet.</p> : (
        <>
          <SpendChart rows={rows} days={days} />
          <div class="table-wrap">
            <table class="table compact">
              <thead>
                <tr><th>Queue</th><th class="num">Today</th><th class="num">Daily budget</th><th class="num">{String(days.length)} days</th>
                  <th class="num hide-sm-y">Input tokens</th><th class="num hide-sm-y">Output tokens</th><th class="num hide-sm-y">Turns</th></tr>
              </thead>
              <tbody>
                {queues.map((q) => {
                  const b = budgets.find((x) => x.queue === q);
                  return (
                    <tr data-spend-queue={esc(q)} data-over-budget={b?.overBudget ? "true" : undefined}>
                      <td>{esc(q)}{b?.reason ? <> <span class="badge s-paused" title={esc(b.reason)}>over budget</span></> : ""}</td>
                      <td class="num">{esc(formatUsd(b ? b.spentTodayUsd : rows.find((r) => r.queue === q && r.day === days.at(-1))?.costUsd ?? 0))}</td>
                      <td class="num">{esc(b?.dailyUsd != null ? `${formatUsd(b.dailyUsd)} (${b.timezone})` : "–")}</td>
                      <td class="num">{esc(formatUsd(sum(q, "costUsd")))}</td>
                      <td class="num hide-sm-y">{String(sum(q, "inputTokens"))}</td>
                      <td class="num hide-sm-y">{String(sum(q, "outputTokens"))}</td>
                      <td class="num hide-sm-y">{String(sum(q, "turns"))}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
