// Scenario 4: every backend of a live worker is terminated
// (pg_terminate_backend: its pool, its lock session, its LISTEN) while it
// runs long jobs; a second worker stands by, able to rescue them. The first
// worker is alive and its jobs are running: nothing may start them
// elsewhere (invariant 2), so each runs exactly once, with no overlap.

import { now } from "../pg.ts";
import { log, type Run, waitFor, waitReady } from "../harness.ts";
import { chaosJob, commonChecks, enqueueDurably, findings, openNow, waitDrained } from "../jobs.ts";
import { Verdict } from "../verdict.ts";
import { round, WORKER_SETTINGS } from "./main.ts";

export async function backendCut(run: Run, o: { jobs: number; jobMs: number }): Promise<Verdict> {
  const v = new Verdict("backend-cut");
  const s = await run.scenario("backend-cut");
  const t0 = now();
  const a = s.supervise("a", { concurrency: o.jobs, ...WORKER_SETTINGS });
  await waitReady(a.current!);
  const jobs = Array.from({ length: o.jobs }, () => chaosJob(o.jobMs));
  const enqueued = (await enqueueDurably(s.sql, jobs)) ? jobs.map((j) => j.id) : [];
  const victim = a.current!;
  const allStarted = await waitFor(() => openNow(s).filter((e) => e.pid === victim.pid).length === o.jobs, 30_000);
  if (!allStarted) v.note(`only ${openNow(s).length} of ${o.jobs} jobs had started in the first worker after 30 s`);
  // The standby starts only now, so every job is the first worker's.
  const b = s.supervise("b", { concurrency: o.jobs, ...WORKER_SETTINGS });
  await waitReady(b.current!);
  await Bun.sleep(1000);
  const cutAt = now();
  const terminated = await s.terminateBackends(victim);
  log(`backend-cut: terminated ${terminated.length} backends of ${victim.app} (pid ${victim.pid}: ${[...new Set(terminated)].join(", ")}) with ${openNow(s).length} jobs running`);
  const drainedAt = await waitDrained(s.sql, Math.max(60_000, o.jobMs * 4));
  await Bun.sleep(1000);
  const leftRunning = openNow(s);
  const victimLived = victim.exitedAt === undefined;
  await s.stopWorkers();
  const f = await findings(s, enqueued);

  await commonChecks(v, f, s, t0, leftRunning.length);
  const once = f.histogram["1"] ?? 0;
  v.check("jobs run exactly once", once, `= ${o.jobs}`, once === o.jobs);
  v.require("drained", drainedAt !== null);
  v.figure("backends terminated", terminated.length);
  v.figure("their application names", [...new Set(terminated)].join(", "));
  v.figure("first worker alive throughout", victimLived ? "yes" : "no");
  v.figure("drained after the cut (s)", drainedAt === null ? "never" : round((drainedAt - cutAt) / 1000, 2));
  v.figure("job length (s)", o.jobMs / 1000);
  await run.closeScenario(s);
  return v;
}
