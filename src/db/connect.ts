// Opens postgres.js connections. The one place that knows driver options;
// turns "cannot connect" into one clear line (DatabaseUnreachableError).

import postgres from "postgres";
import { ConfigError, DatabaseUnreachableError } from "../errors.ts";

export type Sql = postgres.Sql;
/** A pool or a transaction: every query wrapper accepts either. */
export type Queryable = postgres.Sql | postgres.TransactionSql;

export interface ConnectOptions {
  /** Pool size. A worker needs this plus two dedicated connections (its lock and LISTEN). */
  max?: number;
  applicationName?: string;
  /** Seconds to wait for a connection before giving up. */
  connectTimeout?: number;
}

export function validateDatabaseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`database URL: must be a URL like postgres://user@host:5432/db; got ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new ConfigError(`database URL: scheme must be postgres:// or postgresql://; got ${parsed.protocol}//`);
  }
  return url;
}

export function createSql(url: string, options: ConnectOptions = {}): Sql {
  validateDatabaseUrl(url);
  return postgres(url, {
    max: options.max ?? 10,
    connect_timeout: options.connectTimeout ?? 10,
    idle_timeout: 0,
    onnotice: () => {},
    connection: { application_name: options.applicationName ?? "claude-jobs" },
  });
}

/** Connects and runs one query, so a bad URL or a server that is down fails here, clearly. */
export async function connect(url: string, options: ConnectOptions = {}): Promise<Sql> {
  const sql = createSql(url, options);
  try {
    await sql`SELECT 1`;
  } catch (e: unknown) {
    await sql.end({ timeout: 0 }).catch(() => {});
    throw new DatabaseUnreachableError(url, e);
  }
  return sql;
}

/** Network failures that end when the server (or its name, or the route to it) comes up. */
const UNAVAILABLE_NETWORK = new Set([
  "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "EHOSTDOWN", "ENETUNREACH", "ENETDOWN", "EPIPE",
  // A name that does not resolve yet: a compose or Kubernetes service whose
  // container is not up, a host still bringing its network up at boot.
  "ENOTFOUND", "EAI_AGAIN",
  // A Unix socket (host=/var/run/postgresql) that is not there while the server is down.
  "ENOENT",
  // postgres.js's own: no answer within connect_timeout; closed while starting up.
  "CONNECT_TIMEOUT", "CONNECTION_CLOSED",
]);
/** SQLSTATEs of a server that is there but not taking connections now: starting, shutting down, full. */
const UNAVAILABLE_SQLSTATE = new Set(["57P01", "57P02", "57P03", "53300", "08000", "08001", "08003", "08004", "08006"]);

/**
 * Whether a failed connect (a DatabaseUnreachableError from `connect`, or the
 * driver's error itself) means the server is not available yet, so that
 * trying again later can work. A server that answered and refused (wrong
 * password 28P01, failed authentication 28000, no such database 3D000, ...)
 * is not: waiting would not change the answer. A bad URL never gets here
 * (a ConfigError before any connection).
 */
export function isServerUnavailable(e: unknown): boolean {
  const cause = e instanceof DatabaseUnreachableError ? e.cause : e;
  const code = (cause as { code?: unknown } | null | undefined)?.code;
  return typeof code === "string" && (UNAVAILABLE_NETWORK.has(code) || UNAVAILABLE_SQLSTATE.has(code));
}
