// `bun run bench`: the queue's speed and memory on a fresh database. Prints
// one JSON line per workload, then a table. Workloads (issue 2):
//   W1 enqueue 10,000 jobs in one statement, and 2,000 one by one (jobs/s)
//   W2 drain 10,000 queued no-op jobs, one worker at concurrency 10 (jobs/s),
//      also as a share of what PostgreSQL itself does for the same pattern
//      (../shared/bench/pg-ceiling.sh, when present)
//   W3 idle latency: 200 jobs enqueued 20 ms apart, enqueue to handler start
//      p50/p95/p99 (ms), from the enqueue call and from its return (committed)
//   the worker process's peak RSS
//   W5 the dashboard with 1,000,000 jobs: p50/p99 of four pages (bench/w5-dashboard.ts)
//   W7 retention deleting 1,000,000 old jobs while a worker drains new ones:
//      deletion rate, the worker's drain rate and latency idle and during it
//      (bench/w7-retention.ts)
// BENCH_DATABASE_URL (else TEST_DATABASE_URL, else local) names the server; a
// database is created for the run and dropped after.
// `bun run bench --core` runs only W1, W2, W3 and RSS: the figures a change to
// the worker, the claim or the schema must keep (measure before and after).
// `bun run bench --w7` runs only W7.

import postgres from "postgres";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createSql } from "../src/db/connect.ts";
import { migrate } from "../src/db/migrate.ts";
import { Queue } from "../src/queue/client.ts";
import { startWorkerChild, type WorkerChild } from "./child.ts";
import { w5 } from "./w5-dashboard.ts";
import { w4 } from "./w4-claude.ts";
import { w6 } from "./w6-executable.ts";
import { w7 } from "./w7-retention.ts";

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const DB_NAME = `claude_jobs_bench_${process.pid}`;
const results: Record<string, unknown>[] = [];
const CORE_ONLY = process.argv.includes("--core");
const W7_ONLY = process.argv.includes("--w7");

function report(line: Record<string, unknown>): void {
  results.push(line);
  console.log(JSON.stringify(line));
}

function urlFor(db: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${db}`;
  return u.toString();
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round = (n: number, digits = 0) => Number(n.toFixed(digits));

async function w1(queue: Queue): Promise<void> {
  const bulk = Array.from({ length: 10_000 }, (_, i) => ({ kind: "noop", queue: "w1", payload: { i }, delay: "1h" }));
  let t = performance.now();
  await queue.enqueueMany(bulk);
  const bulkPerS = 10_000 / ((performance.now() - t) / 1000);
  t = performance.now();
  for (let i = 0; i < 2000; i++) await queue.enqueue({ kind: "noop", queue: "w1", payload: { i }, delay: "1h" });
  const singlePerS = 2000 / ((performance.now() - t) / 1000);
  report({ workload: "W1", name: "enqueue", bulk_jobs_per_s: round(bulkPerS), one_by_one_jobs_per_s: round(singlePerS) });
}

async function w2(sql: postgres.Sql, queue: Queue, worker: WorkerChild): Promise<number> {
  // Queue them scheduled, then make them due at once: the drain starts with a full backlog.
  await queue.enqueueMany(Array.from({ length: 10_000 }, (_, i) => ({ kind: "noop", queue: "w2", payload: { i }, delay: "1h" })));
  const t = performance.now();
  await sql`UPDATE claude_jobs SET run_at = now() WHERE queue = 'w2'`;
  await sql`SELECT pg_notify('claude_jobs', 'w2')`;
  const timeout = setTimeout(() => { throw new Error("W2 did not drain in 120s"); }, 120_000);
  await worker.finished(10_000);
  clearTimeout(timeout);
  const perS = 10_000 / ((performance.now() - t) / 1000);
  return perS;
}

async function w3(queue: Queue, worker: WorkerChild): Promise<Record<string, number>> {
  // Two clocks per job: from the enqueue call (it includes the insert's
  // commit), and from the moment enqueue returned (the job durable).
  const fromCall: number[] = [];
  const fromCommit: number[] = [];
  const commitMs: number[] = [];
  worker.onLatency((ms, seq) => {
    fromCall.push(ms);
    fromCommit.push(ms - commitMs[seq]!);
  });
  for (let seq = 0; seq < 200; seq++) {
    const sentAt = performance.timeOrigin + performance.now();
    await queue.enqueue({ kind: "latency", queue: "w3", payload: { sentAt, seq } });
    commitMs[seq] = performance.timeOrigin + performance.now() - sentAt;
    await Bun.sleep(20);
  }
  const deadline = Date.now() + 10_000;
  while (fromCall.length < 200 && Date.now() < deadline) await Bun.sleep(10);
  const call = [...fromCall].sort((a, b) => a - b);
  const commit = [...fromCommit].sort((a, b) => a - b);
  return {
    samples: call.length,
    p50_ms: round(percentile(call, 50), 2), p95_ms: round(percentile(call, 95), 2), p99_ms: round(percentile(call, 99), 2),
    after_commit_p50_ms: round(percentile(commit, 50), 2), after_commit_p99_ms: round(percentile(commit, 99), 2),
  };
}

async function pgCeiling(): Promise<number | null> {
  const script = join(import.meta.dir, "..", "..", "shared", "bench", "pg-ceiling.sh");
  if (!existsSync(script)) return null;
  const proc = Bun.spawn(["bash", script], {
    env: { ...process.env, DATABASE_URL: ADMIN_URL, BATCH: "10", CLIENTS: "2", DURATION: "10", ROWS: "300000" },
    stdout: "pipe", stderr: "pipe",
  });
  const text = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0) return null;
  const line = JSON.parse(text.trim().split("\n").at(-1)!) as { jobs_per_s: number };
  report({ workload: "pg_ceiling", batch: 10, clients: 2, jobs_per_s: line.jobs_per_s });
  return line.jobs_per_s;
}

async function main(): Promise<void> {
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${DB_NAME}`);
  const sql = createSql(urlFor(DB_NAME), { max: 4 });
  let worker: WorkerChild | null = null;
  try {
    await migrate(sql);
    const queue = new Queue(sql);
    if (W7_ONLY) {
      await w7(report, urlFor(DB_NAME), sql);
      return printTable();
    }
    await w1(queue);
    await sql`DELETE FROM claude_jobs`;
    await sql`VACUUM ANALYZE claude_jobs`.catch(() => {});
    worker = await startWorkerChild(urlFor(DB_NAME), 10);
    const drain = await w2(sql, queue, worker);
    const latency = await w3(queue, worker);
    const peakRssMb = await worker.stop();
    worker = null;
    const ceiling = await pgCeiling();
    report({ workload: "W2", name: "drain", jobs: 10_000, concurrency: 10, jobs_per_s: round(drain),
      pg_ceiling_jobs_per_s: ceiling, share_of_ceiling: ceiling ? round(drain / ceiling, 2) : null });
    report({ workload: "W3", name: "idle latency", ...latency });
    report({ workload: "RSS", name: "worker peak RSS", peak_rss_mb: round(peakRssMb, 1) });
    if (CORE_ONLY) return printTable();
    await w5(report, sql);
    await w4(urlFor(DB_NAME), queue, report);
    await w6(report, urlFor(DB_NAME));
    await w7(report, urlFor(DB_NAME), sql);
    printTable();
  } finally {
    await worker?.stop().catch(() => {});
    await sql.end({ timeout: 1 });
    await admin.unsafe(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
    await admin.end();
  }
}

function printTable(): void {
  console.log("");
  for (const r of results) {
    const { workload, name, ...figures } = r;
    const text = Object.entries(figures).map(([k, v]) => `${k}=${v}`).join("  ");
    console.log(`${String(workload).padEnd(11)}${String(name ?? "").padEnd(18)}${text}`);
  }
}

await main();
