// `claude-jobs dashboard`: serve the web dashboard and HTTP API until
// SIGINT/SIGTERM. Binds 127.0.0.1 unless told otherwise; a non-loopback host
// without a token is refused, since enqueueing runs an agent on this machine.
// `serve` reuses dashboardSettings and startDashboard. --log-dir is the shared
// option of log-dir.ts, so the dashboard reads where the worker writes.

import { InputError } from "../../errors.ts";
import type { Sql } from "../../db/connect.ts";
import { Queue } from "../../queue/client.ts";
import { createApp, DEFAULT_MAX_BODY_BYTES } from "../../web/app.tsx";
import { checkBind } from "../../web/security.ts";
import { openDatabase, type CliContext } from "../context.ts";
import { LOG_DIR_OPTION, resolveLogDir } from "../log-dir.ts";
import { DATABASE_URL_OPTION, type CommandSpec, type ParsedCommand } from "../options.ts";

export const dashboardOptions = {
  port: { type: "string", description: "TCP port to listen on", env: "CLAUDE_JOBS_PORT", default: "8080" },
  host: { type: "string", description: "address to bind; beyond loopback a token is required", env: "CLAUDE_JOBS_HOST", default: "127.0.0.1" },
  token: { type: "string", description: "access token for every page and API call (16+ characters)", env: "CLAUDE_JOBS_TOKEN" },
  "log-dir": LOG_DIR_OPTION,
} as const satisfies CommandSpec["options"];

export const spec: CommandSpec = {
  name: "dashboard",
  summary: "Serve the web dashboard and HTTP API (127.0.0.1:8080 by default).",
  usage: "claude-jobs dashboard [--port=8080] [--host=127.0.0.1] [--token=<secret>]",
  options: { ...dashboardOptions, "database-url": DATABASE_URL_OPTION },
};

export interface DashboardSettings {
  port: number;
  host: string;
  token: string | undefined;
  logDir: string;
}

export function dashboardSettings(ctx: CliContext, values: ParsedCommand["values"]): DashboardSettings {
  const port = String(values.port);
  if (!/^\d+$/.test(port) || Number(port) > 65535) throw new InputError("--port", `must be a port number from 0 to 65535; got ${JSON.stringify(port)}`);
  const host = String(values.host).trim();
  if (host === "") throw new InputError("--host", "must be an address such as 127.0.0.1 or 0.0.0.0");
  const token = values.token === undefined || values.token === "" ? undefined : String(values.token);
  if (token !== undefined && token.length < 16) throw new InputError("--token", "must be at least 16 characters (use a random secret, e.g. `openssl rand -hex 24`)");
  const refusal = checkBind(host, token);
  if (refusal) throw new InputError("--host", refusal);
  return { port: Number(port), host, token, logDir: resolveLogDir(ctx.env, values["log-dir"]) };
}

export interface RunningDashboard {
  url: string;
  stop(): Promise<void>;
}

export function startDashboard(sql: Sql, s: DashboardSettings): RunningDashboard {
  const app = createApp({ queue: new Queue(sql), sql, token: s.token, logs: { dir: s.logDir } });
  const server = Bun.serve({
    hostname: s.host,
    port: s.port,
    // The app checks Content-Length; this also bounds chunked bodies.
    maxRequestBodySize: DEFAULT_MAX_BODY_BYTES,
    // Live log streams send a keep-alive every 15 s.
    idleTimeout: 60,
    fetch: (request) => app.handle(request),
  });
  const shown = s.host.includes(":") ? `[${s.host}]` : s.host;
  return { url: `http://${shown}:${server.port}`, stop: () => server.stop(true) };
}

export async function run(ctx: CliContext, { values }: ParsedCommand): Promise<number> {
  const settings = dashboardSettings(ctx, values);
  const db = await openDatabase(ctx, { databaseUrl: values["database-url"] as string | undefined, max: 10, applicationName: "claude-jobs dashboard" });
  try {
    const stopped = new Promise<void>((resolve) => ctx.onSignal(() => resolve()));
    const dashboard = startDashboard(db.sql, settings);
    ctx.err(`dashboard listening on ${dashboard.url}${settings.token ? " (token required)" : ""}`);
    await stopped;
    ctx.err("dashboard stopping");
    await dashboard.stop();
    return 0;
  } finally {
    await db.close();
  }
}
