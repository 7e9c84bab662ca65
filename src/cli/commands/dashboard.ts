// `claude-jobs dashboard`: serve the web dashboard and HTTP API until
// SIGINT/SIGTERM. Every page and API call needs the token, in every mode
// (loopback is not a user boundary): the one given (CLAUDE_JOBS_TOKEN, or
// --token, which every local user can read in /proc/PID/cmdline, hence a
// warning), else the token file's, generated at first start
// (src/web/token-file.ts). It binds 127.0.0.1 unless told otherwise, and
// listening beyond loopback needs a token given on purpose. It prints a
// login URL once. `serve` reuses dashboardSettings, dashboardAccess,
// startDashboard and announceDashboard. --log-dir is the shared option of
// log-dir.ts, so the dashboard reads where the worker writes.

import { isIP } from "node:net";
import { errorMessage, InputError } from "../../errors.ts";
import type { Sql } from "../../db/connect.ts";
import { Queue } from "../../queue/client.ts";
import { createApp, DEFAULT_MAX_BODY_BYTES } from "../../web/app.tsx";
import { checkBind, loginUrl, LOOPBACK, normalizeAddress, tokenWeakness } from "../../web/security.ts";
import { serveApp } from "../../web/server.ts";
import { loadOrCreateToken } from "../../web/token-file.ts";
import { openDatabase, type CliContext } from "../context.ts";
import { LOG_DIR_OPTION, resolveLogDir } from "../log-dir.ts";
import { DATABASE_URL_OPTION, type CommandSpec, type ParsedCommand } from "../options.ts";
import { parsePublicUrl, PUBLIC_URL_OPTION, storePublicUrl } from "../notify-options.ts";

export const dashboardOptions = {
  port: { type: "string", description: "TCP port to listen on", env: "CLAUDE_JOBS_PORT", default: "8080" },
  host: { type: "string", description: "address to bind; beyond loopback a token of your own is required", env: "CLAUDE_JOBS_HOST", default: "127.0.0.1" },
  token: {
    type: "string",
    description: "access token for every page and API call (32+ random characters, no whitespace); unset: the generated " +
      "token file's. On the command line every local user can read it (/proc/PID/cmdline): prefer CLAUDE_JOBS_TOKEN or the token file",
    env: "CLAUDE_JOBS_TOKEN",
  },
  "trust-proxy": {
    type: "string",
    description: "IP addresses of reverse proxies whose X-Forwarded-Proto, -Host and -For are believed (comma-separated)",
    env: "CLAUDE_JOBS_TRUST_PROXY",
  },
  "secure-cookies": {
    type: "boolean",
    description: "always mark the session cookie Secure (TLS ends at a proxy that sends no X-Forwarded-Proto)",
    env: "CLAUDE_JOBS_SECURE_COOKIES",
  },
  "log-dir": LOG_DIR_OPTION,
  "public-url": PUBLIC_URL_OPTION,
} as const satisfies CommandSpec["options"];

export const spec: CommandSpec = {
  name: "dashboard",
  summary: "Serve the web dashboard and HTTP API (127.0.0.1:8080 by default; prints a login URL).",
  usage: "claude-jobs dashboard [--port=8080] [--host=127.0.0.1] [--trust-proxy=127.0.0.1] [--secure-cookies]   (token: CLAUDE_JOBS_TOKEN, else the token file)",
  options: { ...dashboardOptions, "database-url": DATABASE_URL_OPTION },
};

export interface DashboardSettings {
  port: number;
  host: string;
  /** The token the user gave (--token or CLAUDE_JOBS_TOKEN); undefined: the token file's, see dashboardAccess. */
  token: string | undefined;
  /** Where `token` came from. */
  tokenSource?: "flag" | "env";
  logDir: string;
  trustProxy?: string[];
  secureCookies?: boolean;
  /** Answer any Host name: set when listening beyond loopback. */
  allowAnyHost?: boolean;
}

/**
 * The dashboard's flags, checked; reads and writes nothing (the token file
 * is dashboardAccess's), so the wizard can check a port with it.
 */
export function dashboardSettings(ctx: CliContext, values: ParsedCommand["values"], sources: ParsedCommand["sources"] = {}): DashboardSettings {
  const port = String(values.port);
  if (!/^\d+$/.test(port) || Number(port) > 65535) throw new InputError("--port", `must be a port number from 0 to 65535; got ${JSON.stringify(port)}`);
  const host = String(values.host).trim();
  if (host === "") throw new InputError("--host", "must be an address such as 127.0.0.1 or 0.0.0.0");
  const token = values.token === undefined || values.token === "" ? undefined : String(values.token);
  const tokenSource = token === undefined ? undefined : sources.token === "env" ? "env" : "flag";
  if (token !== undefined) {
    const weak = tokenWeakness(token);
    if (weak) throw new InputError(tokenSource === "env" ? "CLAUDE_JOBS_TOKEN" : "--token", weak);
  }
  // Only a token given on purpose opens a port beyond loopback, not the generated file's.
  const refusal = checkBind(host, token);
  if (refusal) throw new InputError("--host", refusal);
  return {
    port: Number(port), host, token, tokenSource, logDir: resolveLogDir(ctx.env, values["log-dir"]),
    trustProxy: trustedProxies(values["trust-proxy"]),
    secureCookies: values["secure-cookies"] === true,
    allowAnyHost: !LOOPBACK.test(host),
  };
}

/** --trust-proxy: IP addresses (a proxy is recognized by the peer address of its connection, so names and ranges cannot match). */
function trustedProxies(value: unknown): string[] {
  if (value === undefined || value === "") return [];
  const addresses = String(value).split(",").map((a) => a.trim()).filter(Boolean);
  for (const a of addresses) {
    if (isIP(normalizeAddress(a)) === 0) {
      throw new InputError("--trust-proxy", `must be IP addresses of your proxies, comma-separated (like 127.0.0.1,::1; no names or ranges); got ${JSON.stringify(a)}`);
    }
  }
  return addresses;
}

export interface DashboardAccess {
  token: string;
  /** The user gave it (flag or env): the login URL is printed without it. */
  supplied: boolean;
  /** The token file, when its token is used. */
  file?: { path: string; created: boolean };
}

/**
 * The token the dashboard will require: the one given, else the token file's
 * (made at first start). Warns, once, when it was given on the command line.
 */
export function dashboardAccess(ctx: CliContext, s: DashboardSettings): DashboardAccess {
  if (s.token !== undefined) {
    if (s.tokenSource === "flag") {
      ctx.err("warning: --token on the command line can be read by every local user (/proc/PID/cmdline, ps); " +
        "set CLAUDE_JOBS_TOKEN instead, or leave it unset to use the token file");
    }
    return { token: s.token, supplied: true };
  }
  const file = loadOrCreateToken(ctx.env);
  return { token: file.token, supplied: false, file: { path: file.path, created: file.created } };
}

export interface RunningDashboard {
  url: string;
  stop(): Promise<void>;
}

export function startDashboard(sql: Sql, s: DashboardSettings, o: { onError?: (e: unknown) => void } = {}): RunningDashboard {
  const app = createApp({
    queue: new Queue(sql), sql, token: s.token, logs: { dir: s.logDir },
    allowAnyHost: s.allowAnyHost ?? !LOOPBACK.test(s.host), trustProxy: s.trustProxy, secureCookies: s.secureCookies,
    onError: o.onError,
  });
  // Live log streams send a keep-alive every 15 s; the app checks Content-Length, maxRequestBodySize bounds chunked bodies too.
  const served = serveApp(app, { hostname: s.host, port: s.port, maxRequestBodySize: DEFAULT_MAX_BODY_BYTES, idleTimeout: 60, onError: o.onError });
  return { url: served.url, stop: () => served.stop() };
}

/** The line that lets the user in: the login URL (it signs the browser in), or for a token of their own the /login address without it. */
export function signInLine(url: string, access: DashboardAccess): string {
  if (access.supplied) return `sign in at ${url}/login with your token (CLAUDE_JOBS_TOKEN / --token)`;
  const where = access.file ? ` (the token is in ${access.file.path}${access.file.created ? ", made now" : ""})` : "";
  return `open ${loginUrl(url, access.token)} to sign in${where}`;
}

/** Unexpected errors of the dashboard, for its stderr (a stack with CLAUDE_JOBS_DEBUG). */
export function dashboardErrors(ctx: CliContext): (e: unknown) => void {
  return (e) => ctx.err(`dashboard error: ${ctx.env.CLAUDE_JOBS_DEBUG ? String((e as Error)?.stack ?? e) : errorMessage(e)}`);
}

export async function run(ctx: CliContext, { values, sources }: ParsedCommand): Promise<number> {
  const settings = dashboardSettings(ctx, values, sources);
  const publicUrl = parsePublicUrl(values["public-url"]);
  const access = dashboardAccess(ctx, settings);
  const db = await openDatabase(ctx, { databaseUrl: values["database-url"] as string | undefined, max: 10, applicationName: "claude-jobs dashboard" });
  try {
    if (publicUrl !== null) storePublicUrl(ctx, db.sql, publicUrl);
    const stopped = new Promise<void>((resolve) => ctx.onSignal(() => resolve()));
    const dashboard = startDashboard(db.sql, { ...settings, token: access.token }, { onError: dashboardErrors(ctx) });
    ctx.err(`dashboard listening on ${dashboard.url}`);
    ctx.err(signInLine(dashboard.url, access));
    await stopped;
    ctx.err("dashboard stopping");
    await dashboard.stop();
    return 0;
  } finally {
    await db.close();
  }
}
