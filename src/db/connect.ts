// Opens postgres.js connections. The one place that knows driver options;
// turns "cannot connect" into one clear line (DatabaseUnreachableError).

import postgres from "postgres";
import { ConfigError, DatabaseUnreachableError, redactUrl } from "../errors.ts";
import { isDatabaseUnavailable } from "./unavailable.ts";

export type Sql = postgres.Sql;
/** A pool or a transaction: every query wrapper accepts either. */
export type Queryable = postgres.Sql | postgres.TransactionSql;

export interface ConnectOptions {
  /** Pool size. A worker opens its own connections besides (README: Connections). */
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
    throw new ConfigError(`database URL: must be a URL like postgres://user@host:5432/db; got ${JSON.stringify(redactUrl(url))}`);
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

/**
 * Whether a failed connect (a DatabaseUnreachableError from `connect`, or the
 * driver's error itself) means the server is not available yet, so that
 * trying again later can work. A server that answered and refused (wrong
 * password 28P01, failed authentication 28000, no such database 3D000, ...)
 * is not: waiting would not change the answer. A bad URL never gets here
 * (a ConfigError before any connection).
 */
export function isServerUnavailable(e: unknown): boolean {
  return isDatabaseUnavailable(e instanceof DatabaseUnreachableError ? e.cause : e);
}
