// What every command gets: the environment snapshot, the saved config, output
// streams, and a way to open the database the options point at (or the
// embedded one). Commands return an exit code; only main.ts exits.

import type { Env, SavedConfig } from "../config.ts";
import { defaultDataDir } from "../config.ts";
import { connect, isServerUnavailable, type ConnectOptions, type Sql } from "../db/connect.ts";
import { checkSchema, migrate } from "../db/migrate.ts";

export interface CliContext {
  env: Env;
  config: SavedConfig;
  /** A line (or lines) on stdout; a newline is added when missing. */
  out: (text: string) => void;
  /** Bytes on stdout exactly as given (`logs --raw`). Absent: process.stdout. */
  write?: (bytes: Uint8Array) => void;
  /** A diagnostic line on stderr: main's hides database passwords and shows control characters. */
  err: (text: string) => void;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM); the count says which signal this was. */
  onSignal: (listener: (count: number) => void) => void;
}

export interface OpenDatabase {
  sql: Sql;
  url: string;
  /** The migrations applied while opening (the embedded database is migrated on the way in); empty otherwise. */
  migratedOnOpen: string[];
  /** Whether this is the embedded database. */
  embedded: boolean;
  close(): Promise<void>;
}

export interface OpenOptions {
  databaseUrl: string | undefined;
  /** Pool size. */
  max?: number;
  /** Refuse to go on unless the schema is migrated to this program's version. */
  requireSchema?: boolean;
  applicationName?: string;
  /**
   * Wait for a server that is not up (refused, unreachable, starting) instead
   * of failing: for long-running commands (worker, serve) started beside
   * their database, by systemd or compose, before it is ready. A server that
   * answers no (bad password, no such database) still fails at once.
   * Aborting `signal` stops the wait: openDatabase throws StoppedWaiting.
   */
  waitForServer?: { signal: AbortSignal };
}

/** Thrown by openDatabase when `waitForServer.signal` aborted before the server was reached. */
export class StoppedWaiting extends Error {
  constructor() {
    super("stopped while waiting for PostgreSQL");
  }
}

/** Backoff between attempts while waiting: 0.5s, 1s, 2s, ... then every 10s, so a server that comes up is found soon without hammering one that is down. */
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 10_000;

export async function openDatabase(ctx: CliContext, options: OpenOptions): Promise<OpenDatabase> {
  let url = options.databaseUrl;
  let embeddedServer = false;
  if (!url) {
    // The embedded server is a managed background server (see src/db/embedded):
    // it outlives this process, so there is nothing to release on close.
    const { startEmbeddedPostgres } = await import("../db/embedded/index.ts");
    // Say what was done (initialized, started, as which user) only when this
    // process did it; attaching to the running server is silent.
    const lines: string[] = [];
    const embedded = await startEmbeddedPostgres({ dataDir: defaultDataDir(ctx.env), log: (line: string) => lines.push(line) });
    if (embedded.started) for (const line of lines) ctx.err(line);
    url = embedded.url;
    embeddedServer = true;
  }
  const connectOptions = { max: options.max, applicationName: options.applicationName };
  const sql = options.waitForServer
    ? await connectWhenUp(ctx, url, connectOptions, options.waitForServer.signal)
    : await connect(url, connectOptions);
  let migratedOnOpen: string[] = [];
  try {
    // The embedded database is ours alone: bring its schema up to date on the
    // way in, so the quick start needs no separate migrate step.
    if (embeddedServer) migratedOnOpen = (await migrate(sql)).applied;
    else if (options.requireSchema !== false) await checkSchema(sql);
  } catch (e: unknown) {
    await sql.end({ timeout: 1 });
    throw e;
  }
  return {
    sql,
    url,
    migratedOnOpen,
    embedded: embeddedServer,
    close: () => sql.end({ timeout: 5 }),
  };
}

/** `connect`, retried with capped backoff while the server is unavailable; one line when waiting starts, one when it ends. */
async function connectWhenUp(ctx: CliContext, url: string, options: ConnectOptions, signal: AbortSignal): Promise<Sql> {
  let delayMs = FIRST_RETRY_MS;
  let waiting = false;
  for (;;) {
    if (signal.aborted) throw new StoppedWaiting();
    let sql: Sql;
    try {
      sql = await untilAborted(connect(url, options), signal);
    } catch (e: unknown) {
      if (e instanceof StoppedWaiting || !isServerUnavailable(e)) throw e;
      if (!waiting) {
        ctx.err(`waiting for PostgreSQL at ${serverAddress(url)} (${unavailableReason(e)}); retrying`);
        waiting = true;
      }
      await sleep(delayMs, signal);
      delayMs = Math.min(delayMs * 2, MAX_RETRY_MS);
      continue;
    }
    if (waiting) ctx.err(`reached PostgreSQL at ${serverAddress(url)}`);
    return sql;
  }
}

/** Settles like `attempt`, or throws StoppedWaiting when `signal` aborts first; a connection made after that is closed. */
function untilAborted(attempt: Promise<Sql>, signal: AbortSignal): Promise<Sql> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      reject(new StoppedWaiting());
      attempt.then((sql) => sql.end({ timeout: 0 }), () => {});
    };
    signal.addEventListener("abort", onAbort, { once: true });
    attempt.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** host:port (or the socket folder) of a database URL: never its user or password. */
function serverAddress(url: string): string {
  const u = new URL(url);
  const socketDir = u.searchParams.get("host");
  if (!u.hostname && socketDir) return socketDir;
  return `${u.hostname || "localhost"}:${u.port || "5432"}`;
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ETIMEDOUT: "timed out",
  CONNECT_TIMEOUT: "timed out",
  EHOSTUNREACH: "no route to host",
  ENETUNREACH: "network unreachable",
  ENOTFOUND: "host name not found",
  EAI_AGAIN: "host name lookup failed",
  ENOENT: "no server socket",
  CONNECTION_CLOSED: "connection closed",
};

function unavailableReason(e: unknown): string {
  const cause = (e as { cause?: unknown }).cause ?? e;
  const code = (cause as { code?: unknown }).code;
  return (typeof code === "string" && REASONS[code]) || (cause instanceof Error ? cause.message : String(cause));
}
