// What every command gets: the environment snapshot, the saved config, output
// streams, and a way to open the database the options point at (or the
// embedded one). Commands return an exit code; only main.ts exits.

import type { Env, SavedConfig } from "../config.ts";
import { defaultDataDir } from "../config.ts";
import { connect, type Sql } from "../db/connect.ts";
import { checkSchema } from "../db/migrate.ts";

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
  let release = async () => {};
  if (!url) {
    const { startEmbeddedPostgres } = await import("../db/embedded/index.ts");
    const embedded = await startEmbeddedPostgres({ dataDir: defaultDataDir(ctx.env), log: (line: string) => ctx.err(line) });
    url = embedded.url;
    release = () => embedded.release();
  }
  let sql: Sql;
  try {
    sql = await connect(url, { max: options.max, applicationName: options.applicationName });
  } catch (e: unknown) {
    await release();
    throw e;
  }
  try {
    if (options.requireSchema !== false) await checkSchema(sql);
  } catch (e: unknown) {
    await sql.end({ timeout: 1 });
    await release();
    throw e;
  }
  return {
    sql,
    url,
    close: async () => {
      await sql.end({ timeout: 5 });
      await release();
    },
  };
}
