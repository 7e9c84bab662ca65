// Scenario 5: Claude jobs on the fake CLI (`fake:spawn-child`: it starts a
// `sleep 1000` child in its process group, then hangs), and the worker is
// SIGKILLed. Invariant 3: a worker's death takes its jobs' processes with it
// within a few seconds, and a rescued job never starts while a process of
// its earlier attempt is alive on this host. A second worker is started at
// once, to rescue and run the next attempts; we watch each job's old process
// tree (the fake and its sleep, found by the pids and start times we saw
// before the kill) every 10 ms against the second worker's start records.
// At the end the jobs are cancelled (invariant 5: the whole tree stops).

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Queue } from "../../../src/queue/client.ts";
import { readExecLines } from "../analyze.ts";
import { now } from "../pg.ts";
import { log, type Run, waitFor, waitReady, type WorkerProc } from "../harness.ts";
import { waitDrained } from "../jobs.ts";
import { allProcs, descendants, isAlive, type ProcInfo } from "../proc.ts";
import { Verdict } from "../verdict.ts";
import { round, WORKER_SETTINGS } from "./main.ts";

const tag = (i: number) => `chaos#${i}#`;
const unique = (list: ProcInfo[]) => [...new Map(list.map((p) => [p.pid, p])).values()];

export async function claudeKill(run: Run, o: { jobs: number; short: boolean }): Promise<Verdict> {
  const v = new Verdict("claude-kill");
  const s = await run.scenario("claude-kill");
  const watchMs = o.short ? 8000 : 15_000;
  const w = { concurrency: o.jobs, claude: true, ...WORKER_SETTINGS };
  const a = s.spawnWorker("a", w);
  if (!(await waitReady(a))) throw new Error(`the first worker did not start: see ${a.errFile}`);

  const queue = new Queue(s.sql);
  const ids = await queue.enqueueMany(Array.from({ length: o.jobs }, (_, i) => {
    const cwd = join(s.dir, `cwd-${i}`);
    mkdirSync(cwd, { recursive: true });
    return { kind: "claude", payload: { prompt: `fake:spawn-child ${tag(i)}`, cwd }, maxAttempts: 3 };
  }));
  // Each job's tree: its fake CLI (named by the tag in its prompt) and everything in its process group.
  const trees = new Map<number, ProcInfo[]>();
  const seen = await waitFor(() => {
    const procs = allProcs();
    const mine = descendants(a.pid, procs);
    for (let i = 0; i < o.jobs; i++) {
      const fake = mine.find((p) => p.cmdline.includes("fake-claude") && p.cmdline.includes(tag(i)));
      // Its group, and its descendants that left the group (setsid) but are still its own.
      const members = fake ? unique([...procs.filter((p) => p.pgid === fake.pgid && p.state !== "Z"), ...descendants(fake.pid, procs)]) : [];
      if (fake && members.some((p) => p.cmdline.startsWith("sleep 1000"))) trees.set(i, members);
    }
    return trees.size === o.jobs;
  }, 30_000, 100);
  if (!seen) v.note(`only ${trees.size} of ${o.jobs} jobs had their fake CLI and its sleep running after 30 s`);

  const killAt = now();
  s.signal(a, "SIGKILL");
  const b = s.spawnWorker("b", w);
  log(`claude-kill: SIGKILLed ${a.app} (pid ${a.pid}) with ${trees.size} process trees; started ${b.app}`);

  // Watch: when each old tree was last seen alive / first seen gone, and when its next attempt started.
  const lastAlive = new Map<number, number>();
  const goneAt = new Map<number, number>();
  let aliveAt5s: number | null = null;
  const nextStart = () => {
    const starts = new Map<string, number>();
    for (const l of readExecLines(s.execDir)) {
      if (l.ev === "start" && l.pid !== a.pid && l.attempt >= 2 && !starts.has(l.job)) starts.set(l.job, l.t);
    }
    return starts;
  };
  while (now() - killAt < watchMs) {
    const t = now();
    let alive = 0;
    for (const [i, members] of trees) {
      const n = members.filter((p) => isAlive(p.pid, p.startTime)).length;
      alive += n;
      if (n > 0) lastAlive.set(i, t);
      else if (!goneAt.has(i)) goneAt.set(i, t);
    }
    if (aliveAt5s === null && t - killAt >= 5000) aliveAt5s = alive;
    if (aliveAt5s !== null && goneAt.size === trees.size && nextStart().size === o.jobs) break;
    await Bun.sleep(10);
  }
  const starts = nextStart();
  let startedEarly = 0;
  let uncertain = 0;
  for (const [i] of trees) {
    const started = starts.get(ids[i]!);
    if (started === undefined) continue;
    const gone = goneAt.get(i) ?? Infinity;
    const last = lastAlive.get(i) ?? killAt;
    if (started >= gone) continue;
    // Seen alive after the next attempt had started: certain. Between the
    // last look that saw it alive and the first that saw it gone: one poll
    // (10 ms) too coarse to tell, reported apart.
    if (started < last) startedEarly++;
    else uncertain++;
    v.note(`job ${i}: attempt 2 started ${round((started - killAt) / 1000, 3)} s after the kill; its earlier tree ` +
      (gone === Infinity ? "was still alive at the end of the watch" : `was seen gone only at ${round((gone - killAt) / 1000, 3)} s`) +
      ` (last seen alive ${round((last - killAt) / 1000, 3)} s)`);
  }
  const stillAlive = [...trees.values()].flat().filter((p) => isAlive(p.pid, p.startTime));
  for (const p of stillAlive.slice(0, 4)) v.note(`still alive after ${watchMs / 1000} s: pid ${p.pid} ${p.cmdline.slice(0, 80)}`);

  // The end: cancel every job; the second worker must stop its attempts' whole trees.
  for (const id of ids) await queue.cancel(id).catch((e: unknown) => v.note(`cancel ${id}: ${(e as Error).message}`));
  const drained = await waitDrained(s.sql, 30_000);
  await Bun.sleep(500);
  const bLeft = descendants(b.pid).filter((p) => p.cmdline.includes("fake-claude") || p.cmdline.startsWith("sleep 1000"));
  const rows = await s.sql`SELECT status::text, count(*)::int AS n FROM claude_jobs GROUP BY 1`;
  await stop(s, b);
  const strays = await s.settledStrays();

  v.figure("jobs", o.jobs);
  v.figure("tree processes before the kill", [...trees.values()].flat().length);
  v.zero("tree processes alive 5 s after SIGKILL", aliveAt5s ?? stillAlive.length);
  v.zero(`tree processes alive ${watchMs / 1000} s after SIGKILL`, stillAlive.length);
  v.zero("next attempts started while the earlier tree lived", startedEarly);
  v.figure("next attempts within 10 ms of the tree's end (cannot tell)", uncertain);
  v.check(`next attempts started within ${watchMs / 1000} s`, starts.size, `= ${o.jobs}`, starts.size === o.jobs);
  const firstNext = Math.min(...starts.values());
  v.figure("first next attempt after the kill (s)", starts.size ? round((firstNext - killAt) / 1000, 2) : "none");
  const gone = [...goneAt.values()];
  v.figure("last old tree gone after the kill (s)", gone.length === trees.size && gone.length ? round((Math.max(...gone) - killAt) / 1000, 2) : "not gone");
  v.require("all jobs final after cancel", drained !== null);
  v.zero("processes left after cancel", bLeft.length);
  v.figure("final states", Object.fromEntries(rows.map((r) => [r.status, r.n])));
  v.zero("stray processes at the end", strays.length);
  v.zero("worker crashes", s.crashes.length);
  await run.closeScenario(s);
  return v;
}

async function stop(s: { signal(p: WorkerProc, sig: NodeJS.Signals): boolean }, p: WorkerProc): Promise<void> {
  s.signal(p, "SIGTERM");
  const exited = await Promise.race([p.exited.then(() => true), Bun.sleep(40_000).then(() => false)]);
  if (!exited) s.signal(p, "SIGKILL");
  await p.exited;
}
