// Scenario 2: PostgreSQL is down when the worker starts (a host booting, the
// database restarting). The worker process is started, PostgreSQL only 10 s
// later: the worker must come up by itself and run jobs. A worker that
// exits instead is a crash, even though the supervisor's restart eventually
// gets the jobs done (systemd would, too; a library worker without one would not).

import { readExecLines } from "../analyze.ts";
import { now } from "../pg.ts";
import { events, log, type Run } from "../harness.ts";
import { chaosJob, commonChecks, enqueueDurably, findings, openNow, waitDrained } from "../jobs.ts";
import { Verdict } from "../verdict.ts";
import { round, WORKER_SETTINGS } from "./main.ts";

export async function pgDownAtStart(run: Run, o: { jobs: number; downMs?: number }): Promise<Verdict> {
  const v = new Verdict("pg-down-at-start");
  const downMs = o.downMs ?? 10_000;
  const s = await run.scenario("pg-down-at-start");
  // Migrated while up, as a real deployment is; then down before the worker starts.
  await s.pg.stop();
  const t0 = now();
  const slot = s.supervise("w0", { concurrency: 5, ...WORKER_SETTINGS });
  const first = slot.current!;
  await Bun.sleep(downMs);
  log(`pg-down-at-start: first worker ${first.exitedAt === undefined ? "still running" : `exited (code ${first.exitCode})`} after ${downMs / 1000} s; starting PostgreSQL`);
  await s.pg.start();
  const up = now();
  const jobs = Array.from({ length: o.jobs }, () => chaosJob(50));
  const enqueued = (await enqueueDurably(s.sql, jobs)) ? jobs.map((j) => j.id) : [];
  const drainedAt = await waitDrained(s.sql, 60_000);
  await Bun.sleep(1000);
  const leftRunning = openNow(s);
  const firstAlive = first.exitedAt === undefined;
  const ready = events(first).find((e) => e.ev === "ready");
  await s.stopWorkers();
  const f = await findings(s, enqueued);

  await commonChecks(v, f, s, t0, leftRunning.length);
  v.require("first worker process stayed up", firstAlive,
    firstAlive ? "yes" : `no: exited ${(((first.exitedAt ?? t0) - t0) / 1000).toFixed(1)} s after start, code ${first.exitCode}`);
  const byFirst = readExecLines(s.execDir).filter((l) => l.ev === "start" && l.pid === first.pid).length;
  v.check("jobs run by the first process", byFirst, `= ${o.jobs}`, byFirst === o.jobs);
  v.require("drained", drainedAt !== null);
  v.figure("first worker ready after PostgreSQL up (s)", ready ? round((ready.t - up) / 1000, 2) : "never");
  v.figure("drained after PostgreSQL up (s)", drainedAt === null ? "never (60 s)" : round((drainedAt - up) / 1000, 2));
  v.figure("worker processes started", s.procs.length);
  v.figure("PostgreSQL down at worker start (s)", downMs / 1000);
  const startFailed = events(first).find((e) => e.ev === "start-failed");
  if (startFailed) v.note(`first worker: start-failed: ${JSON.stringify(startFailed.error).slice(0, 300)}`);
  await run.closeScenario(s);
  return v;
}
