// `claude-jobs db start|stop|status`: the embedded PostgreSQL that claude-jobs
// runs on when no database URL is configured. It is a managed background
// server (see src/db/embedded/index.ts for why): commands start it on demand,
// and it runs until `claude-jobs db stop`.

import { defaultDataDir } from "../../config.ts";
import { InputError } from "../../errors.ts";
import { embeddedPostgresStatus, startEmbeddedPostgres, stopEmbeddedPostgres } from "../../db/embedded/index.ts";
import { redactUrl } from "../../errors.ts";
import type { CliContext } from "../context.ts";
import { JSON_OPTION, type CommandSpec, type ParsedCommand } from "../options.ts";

export const spec: CommandSpec = {
  name: "db",
  summary: "Manage the embedded PostgreSQL: start, stop, status (used when no database URL is set; status only reports, exit 3 when not running).",
  usage: "claude-jobs db start|stop|status [--data-dir=DIR] [--print-url]",
  options: {
    "data-dir": { type: "string", description: "where the embedded PostgreSQL keeps its data", env: "CLAUDE_JOBS_DATA_DIR", default: "~/.local/share/claude-jobs" },
    "print-url": { type: "boolean", description: "start: print the server's URL (with its password) on stdout" },
    json: JSON_OPTION,
  },
  positionals: ["action"],
};

export async function run(ctx: CliContext, { values, positionals }: ParsedCommand): Promise<number> {
  const action = positionals[0];
  const dataDir = values["data-dir"] === spec.options["data-dir"]!.default ? defaultDataDir(ctx.env) : String(values["data-dir"]);
  const log = (line: string) => ctx.err(line);
  if (action === "stop") {
    await stopEmbeddedPostgres({ dataDir, log });
    ctx.err(`embedded PostgreSQL in ${dataDir} stopped`);
    return 0;
  }
  if (action === "status") {
    // Only reports: a fresh HOME stays without a data folder.
    const status = await embeddedPostgresStatus(dataDir);
    if (values.json) {
      const { url, ...rest } = status as { url?: string };
      ctx.out(JSON.stringify({ ...rest, ...(url ? { url: redactUrl(url) } : {}) }));
    } else if (status.state === "running") {
      ctx.out(`embedded PostgreSQL running: ${redactUrl(status.url)} (pid ${status.pid}, data ${dataDir})`);
    } else if (status.state === "absent") {
      ctx.out(`embedded PostgreSQL not created yet in ${dataDir} (claude-jobs db start, or any command without a database URL, creates it)`);
    } else {
      ctx.out(`embedded PostgreSQL ${status.state} (data ${dataDir})`);
    }
    return status.state === "running" ? 0 : 3;
  }
  if (action === "start") {
    const server = await startEmbeddedPostgres({ dataDir, log });
    if (values.json) ctx.out(JSON.stringify({ url: server.url, port: server.port, pid: server.pid, started: server.started, dataDir }));
    else if (values["print-url"]) ctx.out(server.url);
    else ctx.out(`embedded PostgreSQL ${server.started ? "started" : "running"}: ${redactUrl(server.url)} (pid ${server.pid}, data ${dataDir})`);
    return 0;
  }
  throw new InputError("action", `must be start, stop or status; got ${JSON.stringify(action)}`);
}
