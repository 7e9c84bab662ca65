// What every command gets: the environment snapshot, the saved config, output
// streams, and a way to open the database the options point at (or the
// embedded one). Commands return an exit code; only main.ts exits.

import type { Env, SavedConfig } from "../config.ts";
import { defaultDataDir } from "../config.ts";
import { connect, type Sql } from "../db/connect.ts";
import { checkSchema, migrate } from "../db/migrate.ts";

export interface CliContext {
  env: Env;
  config: SavedConfig;
  out: (text: string) => void;
  err: (text: string) => void;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM); the count says which signal this was. */
  onSignal: (listener: (count: number) => void) => void;
}

export interface OpenDatabase {
  sql: Sql;
  url: string;
  close(): Promise<void>;
}

export interface OpenOptions {
  databaseUrl: string | undefined;
  /** Pool size. */
  max?: number;
  /** Refuse to go on unless the schema is migrated to this program's version. */
  requireSchema?: boolean;
  applicationName?: string;
}

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
  let sql: Sql;
  try {
    sql = await connect(url, { max: options.max, applicationName: options.applicationName });
  } catch (e: unknown) {
    throw e;
  }
  try {
    // The embedded database is ours alone: bring its schema up to date on the
    // way in, so the quick start needs no separate migrate step.
    if (embeddedServer) await migrate(sql);
    else if (options.requireSchema !== false) await checkSchema(sql);
  } catch (e: unknown) {
    await sql.end({ timeout: 1 });
    throw e;
  }
  return {
    sql,
    url,
    close: () => sql.end({ timeout: 5 }),
  };
}
