// W7: retention at scale. 1,000,000 jobs that ended weeks ago (80% finished
// 20 days ago, 10% cancelled, 10% failed 40 days ago) are deleted by
// cleanup() (src/worker/retention.ts: batches under the advisory lock) while
// a worker process drains new jobs. Printed: the deletion's rate, and the
// worker's drain rate (10,000 no-op jobs) and enqueue-to-start latency (500
// jobs, 20 ms apart) with no deletion running and during it, so the cost to
// the worker is the difference. The counters are checked exact at the end.
// BENCH_RETENTION_BATCH sets the batch size (default: the library's),
// BENCH_RETENTION_PAUSE_MS the rest between batches (default: the library's).

import type { Sql } from "../src/db/connect.ts";
import { Queue } from "../src/queue/client.ts";
import { cleanup, DEFAULT_BATCH_SIZE, DEFAULT_PAUSE_MS, DEFAULT_RETENTION, type CleanupReport } from "../src/worker/retention.ts";
import { startWorkerChild, type WorkerChild } from "./child.ts";

type Report = (line: Record<string, unknown>) => void;

const OLD_ROWS = 1_000_000;
const DRAIN = 10_000;
/** A multiple of 500: the worker child reports its finished count every 500 jobs. */
const LATENCY_SAMPLES = 500;

const FILL = `
INSERT INTO claude_jobs (kind, queue, status, payload, attempts, created_at, started_at, finished_at, error)
SELECT 'noop', (ARRAY['default','high','low','batch'])[1 + g % 4],
       s.status::claude_job_status, jsonb_build_object('i', g), 1, s.t - interval '2 s', s.t - interval '1 s', s.t,
       CASE WHEN s.status = 'failed' THEN 'boom' END
FROM generate_series($1::int, $2::int) g
CROSS JOIN LATERAL (
  SELECT CASE WHEN g % 10 = 0 THEN 'failed' WHEN g % 10 = 1 THEN 'cancelled' ELSE 'finished' END AS status,
         now() - CASE WHEN g % 10 = 0 THEN interval '40 days' ELSE interval '20 days' END - g * interval '1 ms' AS t
) s`;

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const round = (n: number, digits = 0) => Number(n.toFixed(digits));

/** Enqueue-to-start latency of `LATENCY_SAMPLES` jobs, 20 ms apart. */
async function latency(queue: Queue, worker: WorkerChild, samples: number[]): Promise<{ p50_ms: number; p99_ms: number }> {
  samples.length = 0;
  for (let seq = 0; seq < LATENCY_SAMPLES; seq++) {
    await queue.enqueue({ kind: "latency", queue: "w7", payload: { sentAt: performance.timeOrigin + performance.now(), seq } });
    await Bun.sleep(20);
  }
  const deadline = Date.now() + 30_000;
  while (samples.length < LATENCY_SAMPLES && Date.now() < deadline) await Bun.sleep(10);
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50_ms: round(percentile(sorted, 50), 2), p99_ms: round(percentile(sorted, 99), 2) };
}

/** Jobs per second to drain `DRAIN` no-op jobs made due at once; `done` is the worker's finished count to wait for. */
async function drain(sql: Sql, worker: WorkerChild, done: number): Promise<number> {
  await sql`INSERT INTO claude_jobs (kind, queue, payload, run_at) SELECT 'noop', 'w7', '{}', now() + interval '1 hour' FROM generate_series(1, ${DRAIN}::int)`;
  const t = performance.now();
  await sql`UPDATE claude_jobs SET run_at = now() WHERE queue = 'w7' AND status = 'queued'`;
  await sql`SELECT pg_notify('claude_jobs', 'w7')`;
  await worker.finished(done);
  return DRAIN / ((performance.now() - t) / 1000);
}

export async function w7(report: Report, url: string, sql: Sql): Promise<void> {
  const batchSize = Number(process.env.BENCH_RETENTION_BATCH ?? DEFAULT_BATCH_SIZE);
  const pauseMs = Number(process.env.BENCH_RETENTION_PAUSE_MS ?? DEFAULT_PAUSE_MS);
  await sql`TRUNCATE claude_jobs`;
  const queue = new Queue(sql);
  // Started before the old jobs exist: its own retention task (at start, then every 10 min) finds nothing.
  const worker = await startWorkerChild(url, 10);
  const samples: number[] = [];
  worker.onLatency((ms) => samples.push(ms));
  let finished = 0;
  try {
    const idleLatency = await latency(queue, worker, samples);
    finished += LATENCY_SAMPLES;
    const idleDrain = await drain(sql, worker, (finished += DRAIN));

    for (let from = 1; from <= OLD_ROWS; from += 100_000) await sql.unsafe(FILL, [from, Math.min(OLD_ROWS, from + 99_999)]);
    await sql`VACUUM ANALYZE claude_jobs`;

    let running = true;
    const started = performance.now();
    const deletion = cleanup((query) => query(sql), { policy: DEFAULT_RETENTION, now: new Date(), batchSize, pauseMs })
      .finally(() => (running = false));
    // Latency first (10 s), then the drain: both while the deletion runs, on this machine.
    const busyLatency = await latency(queue, worker, samples);
    finished += LATENCY_SAMPLES;
    const latencyOverlapped = running;
    const busyDrain = await drain(sql, worker, (finished += DRAIN));
    const drainOverlapped = running;
    const result: CleanupReport = await deletion;
    const seconds = (performance.now() - started) / 1000;

    const [exact] = await sql`
      SELECT (SELECT coalesce(sum(n), 0) FROM claude_job_counts)::int AS counters,
             (SELECT count(*) FROM claude_jobs WHERE status IN ('finished', 'failed', 'cancelled'))::int AS rows`;
    report({
      workload: "W7", name: "retention", deleted: result.total, batch: batchSize, pause_ms: pauseMs, batches: result.batches,
      seconds: round(seconds, 1), deleted_per_s: round(result.total / seconds),
      drain_idle_jobs_per_s: round(idleDrain), drain_during_jobs_per_s: round(busyDrain), drain_overlapped: drainOverlapped,
      latency_idle_p50_ms: idleLatency.p50_ms, latency_idle_p99_ms: idleLatency.p99_ms,
      latency_during_p50_ms: busyLatency.p50_ms, latency_during_p99_ms: busyLatency.p99_ms, latency_overlapped: latencyOverlapped,
      counters_exact: exact!.counters === exact!.rows,
    });
  } finally {
    await worker.stop();
    await sql`TRUNCATE claude_jobs`;
  }
}
