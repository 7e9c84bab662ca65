// Scenario 6: memory. One worker runs 100,000 no-op jobs, then 1,000 fake
// Claude jobs printing 1 MB each. Its RSS (VmRSS from /proc, sampled every
// 250 ms) once all that is done must be within 20% of its RSS after warm-up
// (5,000 no-ops and 20 Claude jobs): a worker runs for months, so what one
// job leaves behind adds up. RSS at a phase's end is its resting size while
// the worker is idle (see idleRss).

import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Queue } from "../../../src/queue/client.ts";
import { log, type Run, type Scenario, waitReady, type WorkerProc } from "../harness.ts";
import { chaosJob, commonChecks, enqueueDurably, findings, openNow, waitDrained } from "../jobs.ts";
import { now } from "../pg.ts";
import { rssKb } from "../proc.ts";
import { Verdict } from "../verdict.ts";
import { round, WORKER_SETTINGS } from "./main.ts";

const WARM_NOOP = 5000;
const WARM_CLAUDE = 20;
const CONCURRENCY = 10;

export async function memory(run: Run, o: { noop: number; claude: number }): Promise<Verdict> {
  const v = new Verdict("memory");
  const s = await run.scenario("memory");
  const t0 = now();
  const w = s.spawnWorker("w0", { concurrency: CONCURRENCY, claude: true, ...WORKER_SETTINGS });
  if (!(await waitReady(w))) throw new Error(`the worker did not start: see ${w.errFile}`);
  let peak = 0;
  const sampler = setInterval(() => { peak = Math.max(peak, rssKb(w.pid) ?? 0); }, 250);
  const cwd = join(s.dir, "cwd");
  mkdirSync(cwd, { recursive: true });
  const queue = new Queue(s.sql);
  const enqueued: string[] = [];
  const logs = join(s.dir, "claude", "logs");

  const noops = async (n: number) => {
    for (let i = 0; i < n; i += 5000) {
      const batch = Array.from({ length: Math.min(5000, n - i) }, () => chaosJob(0));
      if (await enqueueDurably(s.sql, batch)) enqueued.push(...batch.map((j) => j.id));
      // Keep the backlog near one batch: the table grows, the worker's work per claim does not.
      await waitBelow(s, 1000);
    }
    return waitDrained(s.sql, 600_000);
  };
  const claudes = async (n: number) => {
    for (let i = 0; i < n; i += 100) {
      const ids = await queue.enqueueMany(Array.from({ length: Math.min(100, n - i) }, () =>
        ({ kind: "claude", payload: { prompt: "fake:big=1MB", cwd, exclusive: false }, maxAttempts: 3 })));
      enqueued.push(...ids);
      await waitDrained(s.sql, 600_000);
      rmSync(logs, { recursive: true, force: true }); // 100 MB a batch: only the worker's memory matters here
      mkdirSync(logs, { recursive: true });
    }
  };

  // Warm-up: a share of each kind, so both code paths are loaded before the baseline.
  const warmNoop = Math.min(WARM_NOOP, Math.floor(o.noop / 2));
  const warmClaude = Math.min(WARM_CLAUDE, Math.floor(o.claude / 2));
  let t = performance.now();
  await noops(warmNoop);
  await claudes(warmClaude);
  const warm = await idleRss(w);
  log(`memory: warm-up done, RSS ${warm} KiB`);
  t = performance.now();
  await noops(o.noop - warmNoop);
  const noopSeconds = (performance.now() - t) / 1000;
  const afterNoop = await idleRss(w);
  log(`memory: ${o.noop} no-ops done, RSS ${afterNoop} KiB`);
  t = performance.now();
  await claudes(o.claude - warmClaude);
  const claudeSeconds = (performance.now() - t) / 1000;
  const final = await idleRss(w);
  clearInterval(sampler);
  const leftRunning = openNow(s);
  const alive = w.exitedAt === undefined;
  s.signal(w, "SIGTERM");
  await Promise.race([w.exited, Bun.sleep(40_000)]);
  const f = await findings(s, enqueued);

  await commonChecks(v, f, s, t0, leftRunning.length);
  v.figure("RSS after warm-up (MiB)", mib(warm));
  v.figure(`RSS after ${o.noop} no-ops (MiB)`, mib(afterNoop));
  v.figure(`RSS after ${o.claude} Claude jobs of 1 MB (MiB)`, mib(final));
  v.figure("peak RSS (MiB)", mib(peak));
  const growth = warm > 0 ? final / warm - 1 : Infinity;
  v.check("RSS growth after warm-up", `${round(growth * 100, 1)}%`, "<= 20%", alive && growth <= 0.2);
  v.figure("no-op jobs/s", round((o.noop - warmNoop) / noopSeconds));
  v.figure("Claude jobs/s", round((o.claude - warmClaude) / claudeSeconds, 1));
  await run.closeScenario(s);
  return v;
}

/**
 * The worker's resting size: the smallest of 20 samples over 5 s, after 2 s
 * of quiet. The smallest, because the heap shrinks only when the collector
 * runs, at times we do not choose; a leak stays in every sample.
 */
async function idleRss(w: WorkerProc): Promise<number> {
  await Bun.sleep(2000);
  let least = Infinity;
  for (let i = 0; i < 20; i++) {
    least = Math.min(least, rssKb(w.pid) ?? Infinity);
    await Bun.sleep(250);
  }
  return least === Infinity ? 0 : least;
}

async function waitBelow(s: Scenario, n: number): Promise<void> {
  for (;;) {
    const [row] = await s.sql`SELECT count(*)::int AS n FROM claude_jobs WHERE status IN ('queued', 'running')`.catch(() => [{ n: 0 }]);
    if (row!.n <= n) return;
    await Bun.sleep(200);
  }
}

const mib = (kb: number) => round(kb / 1024, 1);
