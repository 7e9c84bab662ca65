// W4: Claude jobs. 200 jobs of the fake claude CLI (tests/fixtures) that
// exit at once, at concurrency 20, through a worker in its own process running
// the real Claude handler. Reports jobs/s, the worker's peak RSS (VmHWM), and
// the overhead per job: from the handler's start (it spawns the CLI at once)
// to the job's completion written, p50/p95, next to what the fake CLI alone
// takes from spawn to exit (a bun process starting), so the queue's own share
// shows.
//
// Run by bench/run.ts (w4), which starts this same file as the worker child:
//   bun bench/w4-claude.ts URL CONCURRENCY LOG_DIR
// The child prints JSON lines: {"ready":true}, {"overheadMs":n} per finished
// job, and on SIGTERM {"peakRssMb":n}.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Queue } from "../src/queue/client.ts";

const JOBS = 200;
const CONCURRENCY = 20;
const FAKE_CLAUDE = resolve(import.meta.dir, "../tests/fixtures/fake-claude");
/** The fake refuses --dangerously-skip-permissions as root otherwise, like the real CLI. */
const CHILD_ENV = { ...process.env, IS_SANDBOX: "1" };

const round = (n: number, digits = 0) => Number(n.toFixed(digits));
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

/** Runs W4 against the database at `url` and reports one line. */
export async function w4(url: string, queue: Queue, report: (line: Record<string, unknown>) => void): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "claude-jobs-w4-"));
  const proc = Bun.spawn(["bun", import.meta.path, url, String(CONCURRENCY), join(work, "logs")], { stdout: "pipe", stderr: "inherit" });
  const overheads: number[] = [];
  let onReady = () => {};
  let onAll = () => {};
  let onRss = (_mb: number) => {};
  const ready = new Promise<void>((r) => (onReady = r));
  const all = new Promise<void>((r) => (onAll = r));
  const rss = new Promise<number>((r) => (onRss = r));
  void (async () => {
    let buffered = "";
    for await (const chunk of proc.stdout) {
      buffered += Buffer.from(chunk).toString();
      for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
        const msg = JSON.parse(buffered.slice(0, nl)) as Record<string, number>;
        buffered = buffered.slice(nl + 1);
        if (msg.ready) onReady();
        if (msg.overheadMs !== undefined && overheads.push(msg.overheadMs) === JOBS) onAll();
        if (msg.peakRssMb !== undefined) onRss(msg.peakRssMb);
      }
    }
  })();
  try {
    await ready;
    const cliMs = await fakeCliMs(work);
    const t = performance.now();
    await queue.enqueueMany(Array.from({ length: JOBS }, (_, i) => ({
      queue: "w4", payload: { prompt: `bench ${i}`, cwd: work, exclusive: false },
    })));
    const timeout = setTimeout(() => { throw new Error("W4 did not finish in 120s"); }, 120_000);
    await all;
    clearTimeout(timeout);
    const perS = JOBS / ((performance.now() - t) / 1000);
    proc.kill("SIGTERM");
    const peakRssMb = await rss;
    const sorted = [...overheads].sort((a, b) => a - b);
    report({
      workload: "W4", name: "claude fake CLI", jobs: JOBS, concurrency: CONCURRENCY, jobs_per_s: round(perS, 1),
      peak_rss_mb: round(peakRssMb, 1), overhead_p50_ms: round(percentile(sorted, 50), 1),
      overhead_p95_ms: round(percentile(sorted, 95), 1), fake_cli_alone_ms: round(cliMs, 1),
    });
  } finally {
    proc.kill("SIGKILL");
    await proc.exited;
    rmSync(work, { recursive: true, force: true });
  }
}

/** The fake CLI alone, spawn to exit, median of 5 runs: a floor under the overhead per job. */
async function fakeCliMs(cwd: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const p = Bun.spawn([FAKE_CLAUDE, "--dangerously-skip-permissions", "--verbose", "--output-format", "stream-json", "-p", "hi"], {
      cwd, env: CHILD_ENV, stdin: "ignore", stdout: "ignore", stderr: "ignore",
    });
    await p.exited;
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[2]!;
}

async function child(): Promise<void> {
  const [url, concurrency, logDir] = process.argv.slice(2);
  const { createSql } = await import("../src/db/connect.ts");
  const { Worker } = await import("../src/worker/worker.ts");
  const { createClaudeHandler } = await import("../src/handlers/claude/index.ts");
  const sql = createSql(url!, { max: 6, applicationName: "claude-jobs bench W4 worker" });
  const claude = createClaudeHandler({ claudePath: FAKE_CLAUDE, logDir, env: CHILD_ENV });
  const started = new Map<string, number>();
  const worker = new Worker({
    sql, concurrency: Number(concurrency), queues: ["w4"], pollIntervalMs: 1000,
    handlers: { claude: { ...claude, run: (ctx) => { started.set(ctx.job.id, performance.now()); return claude.run(ctx); } } },
  });
  // job:finished is emitted once the completion is committed.
  worker.on("job:finished", (done: { id: string }) => {
    const t = started.get(done.id);
    started.delete(done.id);
    if (t !== undefined) process.stdout.write(JSON.stringify({ overheadMs: performance.now() - t }) + "\n");
  });
  worker.on("job:failed", (done: { error: string }) => process.stderr.write(`W4 job failed: ${done.error}\n`));
  worker.on("error", (e) => process.stderr.write(`W4 worker error: ${e}\n`));
  await worker.start();
  process.stdout.write(JSON.stringify({ ready: true }) + "\n");
  process.on("SIGTERM", async () => {
    await worker.stop({ timeoutMs: 5000 });
    const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? 0);
    process.stdout.write(JSON.stringify({ peakRssMb: kb ? kb / 1024 : process.resourceUsage().maxRSS / 1024 }) + "\n");
    await sql.end();
    process.exit(0);
  });
}

if (import.meta.main) await child();
