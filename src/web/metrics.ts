// GET /metrics: Prometheus text exposition (format 0.0.4). Jobs by status and
// queue (gauges, from the status column), the live worker count and slots
// (gauges), and the run-time histogram of the jobs that ended while this
// process watched: cumulative for the life of the process, so its _bucket,
// _sum and _count never go down and rate() works. (A window over "the last
// hour" would drop jobs as they age, and a job deleted or retried would take
// its count with it: neither can happen to what is counted here.) Label
// values are escaped per the format.
//
// How each end is counted once, whatever the scrape interval: every scrape
// counts, in one aggregate query, the jobs that ended between the previous
// cutoff and the new one (now - SETTLE_MS), and one by one those that ended
// after the new cutoff, remembering their keys (id@finished_at) until the
// next aggregate covers their window and leaves them out. A commit that
// lands more than SETTLE_MS after its finished_at (a completion's now()) is
// missed; anything else is counted exactly once. Scrapes run one at a time.
//
// What Claude attempts cost (USD, tokens, turns, attempts) per queue are
// counters read from claude_job_spend, which the database only ever adds to
// (migration 008): they never go down, across dashboard restarts too.

import type { Queue } from "../queue/client.ts";
import type { Queryable } from "../db/connect.ts";
import { DURATION_BUCKETS, dashDurations, dashEndedRecent } from "../db/dashboard.ts";
import { budgetList, spendTotals, type SpendTotal } from "../db/budgets.ts";

const STATUSES = ["waiting", "queued", "scheduled", "running", "finished", "failed", "cancelled"] as const;

/** How long after its finished_at a job's end is counted in aggregate rather than one by one. */
export const SETTLE_MS = 30_000;

const label = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

interface Series {
  queue: string;
  status: string;
  count: number;
  sum: number;
  /** Cumulative, per DURATION_BUCKETS. */
  buckets: number[];
}

export interface MetricsOptions {
  /** Where counting starts (microseconds since the epoch); default the time this is made. */
  sinceUs?: string;
  settleMs?: number;
}

/** The dashboard's metrics: the gauges read fresh, the histogram accumulated per process. */
export class Metrics {
  private cutoffUs: string;
  private readonly settleMs: number;
  /** Ends counted one by one whose window the aggregate has not covered yet: key -> finished_at (us). */
  private readonly counted = new Map<string, bigint>();
  private readonly series = new Map<string, Series>();
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly queue: Queue, private readonly sql: Queryable, options: MetricsOptions = {}) {
    this.cutoffUs = options.sinceUs ?? String(BigInt(Date.now()) * 1000n);
    this.settleMs = options.settleMs ?? SETTLE_MS;
  }

  /** The exposition text. Concurrent calls run one after another. */
  render(): Promise<string> {
    const next = this.chain.then(() => this.renderNow());
    this.chain = next.catch(() => {});
    return next;
  }

  private add(queue: string, status: string, count: number, sum: number, buckets: number[]): void {
    const id = JSON.stringify([queue, status]);
    let s = this.series.get(id);
    if (!s) this.series.set(id, (s = { queue, status, count: 0, sum: 0, buckets: DURATION_BUCKETS.map(() => 0) }));
    s.count += count;
    s.sum += sum;
    buckets.forEach((n, i) => (s.buckets[i]! += n));
  }

  /** Counts the ends since the last scrape; changes nothing unless both queries succeed. */
  private async collect(): Promise<void> {
    const recent = await dashEndedRecent(this.sql, this.cutoffUs, this.settleMs);
    const to = BigInt(recent.cutoffUs);
    const inWindow = [...this.counted].filter(([, us]) => us <= to).map(([key]) => key);
    const settled = await dashDurations(this.sql, this.cutoffUs, recent.cutoffUs, inWindow);
    for (const d of settled) this.add(d.queue, d.status, d.count, d.sum, d.buckets);
    for (const key of inWindow) this.counted.delete(key);
    for (const j of recent.jobs) {
      if (this.counted.has(j.key)) continue;
      this.counted.set(j.key, j.endedUs);
      this.add(j.queue, j.status, 1, j.seconds, DURATION_BUCKETS.map((b) => (j.seconds <= b ? 1 : 0)));
    }
    this.cutoffUs = recent.cutoffUs;
  }

  private async renderNow(): Promise<string> {
    const [stats, workers, , spend, budgets] = await Promise.all([
      this.queue.stats(), this.queue.workers(), this.collect(), spendTotals(this.sql), budgetList(this.sql),
    ]);
    const lines: string[] = [
      "# HELP claude_jobs_jobs Jobs in the table by status and queue (scheduled: queued with run_at in the future).",
      "# TYPE claude_jobs_jobs gauge",
    ];
    for (const q of stats.queues) {
      for (const s of STATUSES) lines.push(`claude_jobs_jobs{queue="${label(q.queue)}",status="${s}"} ${q[s]}`);
    }
    lines.push(
      "# HELP claude_jobs_job_duration_seconds Run time (started to ended) of the jobs that ended since this dashboard process started, by queue and final status.",
      "# TYPE claude_jobs_job_duration_seconds histogram",
    );
    const ordered = [...this.series.values()].sort((a, b) => (a.queue === b.queue ? a.status.localeCompare(b.status) : a.queue.localeCompare(b.queue)));
    for (const d of ordered) {
      const base = `queue="${label(d.queue)}",status="${label(d.status)}"`;
      DURATION_BUCKETS.forEach((b, i) => lines.push(`claude_jobs_job_duration_seconds_bucket{${base},le="${b}"} ${d.buckets[i]}`));
      lines.push(
        `claude_jobs_job_duration_seconds_bucket{${base},le="+Inf"} ${d.count}`,
        `claude_jobs_job_duration_seconds_sum{${base}} ${d.sum}`,
        `claude_jobs_job_duration_seconds_count{${base}} ${d.count}`,
      );
    }
    const busy = workers.reduce((n, w) => n + w.runningJobIds.length, 0);
    const slots = workers.reduce((n, w) => n + w.concurrency, 0);
    lines.push(
      "# HELP claude_jobs_workers Live workers (holding their database lock).",
      "# TYPE claude_jobs_workers gauge",
      `claude_jobs_workers ${workers.length}`,
      "# HELP claude_jobs_worker_slots Job slots of the live workers, and how many are busy.",
      "# TYPE claude_jobs_worker_slots gauge",
      `claude_jobs_worker_slots{state="total"} ${slots}`,
      `claude_jobs_worker_slots{state="busy"} ${busy}`,
    );
    lines.push(...spendLines(spend));
    lines.push(
      "# HELP claude_jobs_queue_over_budget 1 while the queue's recorded Claude cost for its day has reached its daily budget (its Claude jobs wait), else 0; queues with a budget.",
      "# TYPE claude_jobs_queue_over_budget gauge",
      ...budgets.filter((b) => b.dailyUsd !== null).map((b) => `claude_jobs_queue_over_budget{queue="${label(b.queue)}"} ${b.overBudget ? 1 : 0}`),
    );
    return lines.join("\n") + "\n";
  }
}

/** The spend counters, one series per queue (and token type). */
function spendLines(spend: SpendTotal[]): string[] {
  const q = (t: SpendTotal) => `queue="${label(t.queue)}"`;
  const tokens = [["input", "inputTokens"], ["output", "outputTokens"], ["cache_read", "cacheReadTokens"], ["cache_creation", "cacheCreationTokens"]] as const;
  return [
    "# HELP claude_jobs_claude_cost_usd_total What Claude attempts cost (the CLI's total_cost_usd), by queue, since spend was first recorded.",
    "# TYPE claude_jobs_claude_cost_usd_total counter",
    ...spend.map((t) => `claude_jobs_claude_cost_usd_total{${q(t)}} ${t.costUsd}`),
    "# HELP claude_jobs_claude_tokens_total Tokens Claude attempts used, by queue and type (input, output, cache_read, cache_creation).",
    "# TYPE claude_jobs_claude_tokens_total counter",
    ...spend.flatMap((t) => tokens.map(([type, key]) => `claude_jobs_claude_tokens_total{${q(t)},type="${type}"} ${t[key]}`)),
    "# HELP claude_jobs_claude_turns_total Turns of Claude attempts, by queue.",
    "# TYPE claude_jobs_claude_turns_total counter",
    ...spend.map((t) => `claude_jobs_claude_turns_total{${q(t)}} ${t.turns}`),
    "# HELP claude_jobs_claude_attempts_total Attempts of Claude jobs that ended (with or without a cost), by queue.",
    "# TYPE claude_jobs_claude_attempts_total counter",
    ...spend.map((t) => `claude_jobs_claude_attempts_total{${q(t)}} ${t.attempts}`),
  ];
}
