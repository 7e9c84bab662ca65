// GET /metrics: Prometheus text exposition. Jobs by status and queue (from the
// status column), run-time histograms of the jobs that ended in the last hour,
// and the live worker count. Label values are escaped per the format.

import type { Queue } from "../queue/client.ts";
import type { Sql } from "../db/connect.ts";
import { DURATION_BUCKETS, dashDurations } from "../db/dashboard.ts";

const STATUSES = ["queued", "scheduled", "running", "finished", "failed", "cancelled"] as const;

const label = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

export async function renderMetrics(queue: Queue, sql: Sql): Promise<string> {
  const [stats, durations, workers] = await Promise.all([queue.stats(), dashDurations(sql), queue.workers()]);
  const lines: string[] = [
    "# HELP claude_jobs_jobs Jobs in the table by status and queue (scheduled: queued with run_at in the future).",
    "# TYPE claude_jobs_jobs gauge",
  ];
  for (const q of stats.queues) {
    for (const s of STATUSES) lines.push(`claude_jobs_jobs{queue="${label(q.queue)}",status="${s}"} ${q[s]}`);
  }
  lines.push(
    "# HELP claude_jobs_job_duration_seconds Run time (started to ended) of the jobs that ended in the last hour.",
    "# TYPE claude_jobs_job_duration_seconds histogram",
  );
  for (const d of durations) {
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
  return lines.join("\n") + "\n";
}
