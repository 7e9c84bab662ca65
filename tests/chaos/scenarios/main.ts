// Scenario 1, main: many short jobs, four supervised worker processes, and
// every fault at once: workers SIGKILLed at random (and restarted by the
// supervisor), PostgreSQL crashed and restarted once, the backends of one
// live worker terminated, one worker SIGTERMed with jobs running. Jobs keep
// being enqueued through all of it. The faults fire at shares of the jobs
// done, so a scaled run (--jobs) gets each of them.

import { now } from "../pg.ts";
import { log, waitReady, type Run, type WorkerProc } from "../harness.ts";
import { chaosJob, commonChecks, enqueueDurably, finalCount, findings, MAX_ATTEMPTS, openNow, waitDrained } from "../jobs.ts";
import { Verdict } from "../verdict.ts";

export interface MainOptions {
  jobs: number;
  short: boolean;
}

const WORKERS = 4;
const CONCURRENCY = 10;
const JOB_MS = [20, 200] as const;
/** Poll and rescue faster than the library's defaults (5 s, 15 s) so a run takes a minute, not ten; its own lock probe interval. */
export const WORKER_SETTINGS = { pollMs: 1000, rescueMs: 2000 } as const;

export async function main(run: Run, o: MainOptions): Promise<Verdict> {
  const v = new Verdict("main");
  const s = await run.scenario("main");
  const t0 = now();
  const enqueued: string[] = [];
  const newJobs = (n: number) => Array.from({ length: n }, () => chaosJob(Math.round(JOB_MS[0] + Math.random() * (JOB_MS[1] - JOB_MS[0]))));

  // A third up front, the rest trickled in while the faults happen (enqueues
  // during the crash must either fail or be durable).
  const upfront = Math.round(o.jobs * 0.3);
  for (let i = 0; i < upfront; i += 1000) {
    const batch = newJobs(Math.min(1000, upfront - i));
    if (await enqueueDurably(s.sql, batch)) enqueued.push(...batch.map((j) => j.id));
  }
  const slots = Array.from({ length: WORKERS }, (_, i) => s.supervise(`w${i}`, { concurrency: CONCURRENCY, ...WORKER_SETTINGS }));
  await Promise.all(slots.map((slot) => waitReady(slot.current!, 30_000)));
  log(`main: ${WORKERS} workers ready, ${enqueued.length} jobs queued, trickling ${o.jobs - upfront} more`);

  // Short: 100 jobs/s, so the few thousand jobs last long enough for every fault to meet live work.
  const perTick = o.short ? 25 : 50;
  let enqueueFailures = 0;
  const trickle = (async () => {
    let planned = upfront;
    while (planned < o.jobs) {
      const batch = newJobs(Math.min(perTick, o.jobs - planned));
      planned += batch.length;
      if (await enqueueDurably(s.sql, batch)) enqueued.push(...batch.map((j) => j.id));
      else enqueueFailures++;
      await Bun.sleep(250); // below the workers' pace, so the queue stays short and the faults meet live work
    }
  })();

  type Fault = { what: string; t: number; detail: string };
  const faults: Fault[] = [];
  const fault = (what: string, detail: string) => {
    faults.push({ what, t: now(), detail });
    log(`main: fault ${what}: ${detail}`);
  };
  const runningIn = (p: WorkerProc) => openNow(s).filter((e) => e.pid === p.pid).length;
  const pick = (avoid: WorkerProc[] = []) => {
    const live = s.readyWorkers().filter((p) => !avoid.includes(p) && p.ourSignals.length === 0);
    const open = openNow(s);
    const busy = live.filter((p) => open.some((e) => e.pid === p.pid));
    const from = busy.length > 0 ? busy : live;
    return from[Math.floor(Math.random() * from.length)];
  };

  // The three one-off faults fire in this order, each once its share of the
  // jobs is done and at least 1.5 s after the one before (a burst of progress
  // after the crash must not skip any); SIGKILLs come every few seconds
  // throughout. The fault phase ends when all have fired and 85% is done.
  let termed: WorkerProc | undefined;
  // The cut worker is spared SIGKILL for a while: what it does next (re-take its lock, keep its jobs) is the test.
  let cutVictim: { p: WorkerProc; until: number } | undefined;
  const plan: { at: number; run: () => Promise<boolean> }[] = [
    { at: 0.3, run: async () => {
      fault("postgres-crash", "pg_ctl stop -m immediate, restart after 2 s");
      await s.pg.downFor(2000, "immediate");
      fault("postgres-up", `back on port ${s.pg.port}`);
      return true;
    } },
    { at: 0.5, run: async () => {
      const p = pick();
      if (!p) return false;
      const running = runningIn(p);
      const names = await s.terminateBackends(p).catch((e: unknown) => [`failed: ${(e as Error).message}`]);
      cutVictim = { p, until: Date.now() + 5000 };
      fault("terminate-backends", `${names.length} backends of ${p.app} (pid ${p.pid}: ${[...new Set(names)].join(", ")}), ${running} jobs running`);
      return true;
    } },
    { at: 0.65, run: async () => {
      termed = pick();
      if (!termed) return false;
      const running = runningIn(termed);
      if (s.signal(termed, "SIGTERM")) fault("sigterm", `${termed.app} (pid ${termed.pid}), ${running} jobs running`);
      return true;
    } },
  ];
  const killGap = o.short ? [3000, 5000] : [2000, 4000];
  const minKills = o.short ? 2 : 8;
  let kills = 0;
  let nextKill = Date.now() + killGap[0]!;
  let lastPlanned = 0;
  let done = 0;
  const faultDeadline = Date.now() + Math.max(120_000, o.jobs * 30);
  while (Date.now() < faultDeadline) {
    done = (await finalCount(s.sql)) ?? done;
    const share = done / o.jobs;
    if (plan.length === 0 && kills >= minKills && share >= 0.85) break;
    if (plan.length > 0 && share >= plan[0]!.at && Date.now() - lastPlanned >= 1500) {
      if (await plan[0]!.run()) {
        plan.shift();
        lastPlanned = Date.now();
      }
    } else if (Date.now() >= nextKill) {
      const spared = [termed, cutVictim && Date.now() < cutVictim.until ? cutVictim.p : undefined].filter((x): x is WorkerProc => !!x);
      const p = pick(spared);
      const running = p ? runningIn(p) : 0; // before the kill, which closes them
      if (p && s.signal(p, "SIGKILL")) {
        kills++;
        fault("sigkill", `${p.app} (pid ${p.pid}), ${running} jobs running`);
      }
      nextKill = Date.now() + killGap[0]! + Math.random() * (killGap[1]! - killGap[0]!);
    }
    await Bun.sleep(250);
  }
  if (plan.length > 0) v.note(`${plan.length} planned faults did not fire before the deadline`);
  await trickle;
  const lastFault = faults.at(-1)?.t ?? t0;
  log(`main: faults done (${faults.length}); draining`);
  const drainedAt = await waitDrained(s.sql, 180_000);
  // A job's execution may still be ending as its outcome lands; the longest lasts 200 ms.
  await Bun.sleep(JOB_MS[1] + 1000);
  const leftRunning = openNow(s);
  const stop = await s.stopWorkers();
  const f = await findings(s, enqueued);

  await commonChecks(v, f, s, t0, leftRunning.length);
  v.require("drained", drainedAt !== null);
  v.figure("faults", countBy(faults.map((x) => x.what).filter((w) => w !== "postgres-up")));
  v.figure("drain after last fault (s)", drainedAt === null ? "never (180 s)" : round((drainedAt - lastFault) / 1000, 1));
  v.figure("duration (s)", round((now() - t0) / 1000, 1));
  v.figure("enqueue batches given up", enqueueFailures);
  v.figure("worker processes started", s.procs.length);
  v.figure("workers SIGKILLed at the end (stop hung)", stop.sigkilled);
  v.figure("settings", { workers: WORKERS, concurrency: CONCURRENCY, jobMs: JOB_MS, maxAttempts: MAX_ATTEMPTS, ...WORKER_SETTINGS });
  for (const e of leftRunning.slice(0, 3)) v.note(`left running: job ${e.job} attempt ${e.attempt} in pid ${e.pid} after the drain`);
  await run.closeScenario(s);
  return v;
}

function countBy(list: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of list) out[x] = (out[x] ?? 0) + 1;
  return out;
}

export const round = (n: number, digits = 0) => Number(n.toFixed(digits));
