// `claude-jobs serve`: a worker and the dashboard in one process, as the seed
// had. The first SIGINT/SIGTERM closes the dashboard and stops the worker
// gracefully (running jobs may finish up to --shutdown-timeout); a second
// signal stops the jobs at once. Like `worker`, it waits for a PostgreSQL
// that is not up yet.

import type { CliContext } from "../context.ts";
import { DATABASE_URL_OPTION, type CommandSpec, type ParsedCommand } from "../options.ts";
import { buildWorker, openForWorker, stopOnSignals, workerOptions, workerSettings } from "./worker.ts";
import { dashboardAccess, dashboardErrors, dashboardOptions, dashboardSettings, signInLine, startDashboard } from "./dashboard.ts";

export const spec: CommandSpec = {
  name: "serve",
  summary: "Run a worker and the dashboard in one process (graceful shutdown of both).",
  usage: "claude-jobs serve [--port=8080] [--host=127.0.0.1] [--concurrency=10] [--queues=*] [--pass-env=NAME,PREFIX_*]   (token: CLAUDE_JOBS_TOKEN, else the token file)",
  // Both define log-dir as the one LOG_DIR_OPTION: the worker writes there, the dashboard reads it.
  options: { ...workerOptions, ...dashboardOptions, "database-url": DATABASE_URL_OPTION },
};

export async function run(ctx: CliContext, { values, sources }: ParsedCommand): Promise<number> {
  const worker = workerSettings(ctx, values);
  const dashboard = dashboardSettings(ctx, values, sources);
  const access = dashboardAccess(ctx, dashboard);
  const db = await openForWorker(ctx, { databaseUrl: values["database-url"] as string | undefined, max: 12, applicationName: "claude-jobs serve" });
  if (!db) return 0;
  try {
    const w = buildWorker(ctx, db.sql, worker);
    const web = startDashboard(db.sql, { ...dashboard, token: access.token }, { onError: dashboardErrors(ctx) });
    const stopped = stopOnSignals(ctx, w, worker.shutdownTimeoutMs, () => void web.stop());
    try {
      await w.start();
    } catch (e: unknown) {
      await web.stop();
      throw e;
    }
    ctx.err(`serve: worker ${w.id} (queues ${worker.queues.join(",")}, concurrency ${worker.concurrency}); dashboard listening on ${web.url}`);
    ctx.err(signInLine(web.url, access));
    await stopped;
    await web.stop();
    ctx.err(`serve: worker ${w.id} and dashboard stopped`);
    return 0;
  } finally {
    await db.close();
  }
}
