// Scenario 3: PostgreSQL goes down for 30 s while one worker runs ten-second
// jobs, which end during the outage. Invariant 2: a worker whose database
// comes back keeps its jobs and writes their outcomes, exactly once. So each
// job runs once, and its outcome (finished_at) is written after the
// database is back.

import { now } from "../pg.ts";
import { log, type Run, waitFor } from "../harness.ts";
import { chaosJob, commonChecks, enqueueDurably, findings, openNow, waitDrained } from "../jobs.ts";
import { Verdict } from "../verdict.ts";
import { round, WORKER_SETTINGS } from "./main.ts";

export async function pgOutage(run: Run, o: { jobs: number; downMs: number; jobMs: number }): Promise<Verdict> {
  const v = new Verdict("pg-outage");
  const s = await run.scenario("pg-outage");
  const t0 = now();
  const slot = s.supervise("w0", { concurrency: Math.max(o.jobs, 1), ...WORKER_SETTINGS });
  const jobs = Array.from({ length: o.jobs }, () => chaosJob(o.jobMs));
  const enqueued = (await enqueueDurably(s.sql, jobs)) ? jobs.map((j) => j.id) : [];
  const allStarted = await waitFor(() => openNow(s).length === o.jobs, 30_000);
  if (!allStarted) v.note(`only ${openNow(s).length} of ${o.jobs} jobs had started after 30 s`);
  await Bun.sleep(2000);
  log(`pg-outage: ${openNow(s).length} jobs running in ${slot.current?.app}; PostgreSQL down for ${o.downMs / 1000} s`);
  const down = now();
  await s.pg.downFor(o.downMs, "immediate");
  const up = now();
  const drainedAt = await waitDrained(s.sql, 60_000);
  await Bun.sleep(1000);
  const leftRunning = openNow(s);
  const rows = await s.sql`SELECT id::text, extract(epoch FROM finished_at) * 1000 AS finished FROM claude_jobs`;
  await s.stopWorkers();
  const f = await findings(s, enqueued);

  await commonChecks(v, f, s, t0, leftRunning.length);
  const once = f.histogram["1"] ?? 0;
  v.check("jobs run exactly once", once, `= ${o.jobs}`, once === o.jobs);
  const writtenAfter = rows.filter((r) => r.finished !== null && Number(r.finished) >= up).length;
  v.check("outcomes written after PostgreSQL came back", writtenAfter, `= ${o.jobs}`, writtenAfter === o.jobs);
  v.require("drained", drainedAt !== null);
  v.figure("outage (s)", round((up - down) / 1000, 1));
  v.figure("drained after PostgreSQL up (s)", drainedAt === null ? "never (60 s)" : round((drainedAt - up) / 1000, 2));
  v.figure("worker processes started", s.procs.length);
  v.figure("job length (s)", o.jobMs / 1000);
  await run.closeScenario(s);
  return v;
}
