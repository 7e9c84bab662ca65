// The one reader of the environment and of the saved configuration file.
// Resolution order, everywhere: flag > environment variable > config file >
// default. Commands declare their options (src/cli/options.ts) with the env
// var that backs each one; this module supplies the values behind them.

import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { ConfigError, redactUrl } from "./errors.ts";

export type Env = Readonly<Record<string, string | undefined>>;

/** A snapshot of the environment; tests pass their own. */
export function readEnv(): Env {
  return { ...process.env };
}

export function homeDir(env: Env): string {
  return env.HOME || homedir();
}

/** `$XDG_CONFIG_HOME/claude-jobs/config.json`, or `~/.config/claude-jobs/config.json`. */
export function configFilePath(env: Env): string {
  return env.CLAUDE_JOBS_CONFIG || join(env.XDG_CONFIG_HOME || join(homeDir(env), ".config"), "claude-jobs", "config.json");
}

/** `$XDG_DATA_HOME/claude-jobs`, or `~/.local/share/claude-jobs`: the embedded PostgreSQL lives here. */
export function defaultDataDir(env: Env): string {
  return env.CLAUDE_JOBS_DATA_DIR || join(env.XDG_DATA_HOME || join(homeDir(env), ".local", "share"), "claude-jobs");
}

/** The seed's log folder: `$HOME/.local/shared/claude-jobs/logs`. */
export function defaultLogDir(env: Env): string {
  return join(homeDir(env), ".local", "shared", "claude-jobs", "logs");
}

/** What the wizard saves. Every key is also a flag. */
export interface SavedConfig {
  databaseUrl?: string;
  /**
   * "embedded": the embedded PostgreSQL was chosen on purpose (older wizards
   * saved `{}` for it, still read as "nothing saved"). Commands need no flag
   * for it: with no database URL they use the embedded PostgreSQL anyway.
   */
  database?: "embedded";
}

/**
 * The saved configuration, or {} when there is none. A file that other users
 * can read or change is treated as ssh treats its own: refused when it holds
 * a password (a database URL with one, or a `password=` parameter), with the
 * `chmod 600` that fixes it; otherwise used, with a warning through `warn`
 * (the wizard may save a password into it later).
 */
export function loadConfigFile(env: Env, warn?: (message: string) => void): SavedConfig {
  const path = configFilePath(env);
  let text: string;
  let mode: number;
  try {
    const fd = openSync(path, "r");
    try {
      mode = fstatSync(fd).mode;
      text = readFileSync(fd, "utf8");
    } finally {
      closeSync(fd);
    }
  } catch (e: unknown) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new ConfigError(`config file ${path} cannot be read: ${(e as Error).message}; fix or delete it`);
  }
  let config: SavedConfig;
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not a JSON object");
    const fields = parsed as Record<string, unknown>;
    if (fields.databaseUrl !== undefined && typeof fields.databaseUrl !== "string") {
      throw new Error("databaseUrl must be a string");
    }
    if (fields.database !== undefined && fields.database !== "embedded") {
      throw new Error(`database must be "embedded"; got ${JSON.stringify(fields.database)}`);
    }
    if (fields.database !== undefined && fields.databaseUrl !== undefined) throw new Error("database and databaseUrl are both set; keep one");
    config = { databaseUrl: fields.databaseUrl as string | undefined };
    if (fields.database === "embedded") config.database = "embedded";
  } catch (e: unknown) {
    throw new ConfigError(`config file ${path}: ${(e as Error).message}; fix or delete it`);
  }
  const open = mode & 0o077;
  if (open !== 0) {
    const shown = (mode & 0o777).toString(8).padStart(4, "0");
    const who = open & 0o044 ? "read" : "changed";
    if (config.databaseUrl !== undefined && holdsPassword(config.databaseUrl)) {
      throw new ConfigError(
        `config file ${path} holds a database password and can be ${who} by other users (mode ${shown}); ` +
          `refusing to use it. Run: chmod 600 ${path} (and change the password if someone may have read it)`,
      );
    }
    warn?.(`warning: config file ${path} can be ${who} by other users (mode ${shown}); run: chmod 600 ${path}`);
  }
  return config;
}

/** Whether a database URL carries a password (in its user info, or as a `password=` parameter). */
export function holdsPassword(url: string): boolean {
  return redactUrl(url) !== url;
}

/**
 * Writes the config file with mode 0600 (a database URL may hold a
 * password): into a private temporary file, then renamed over the old one,
 * so the new content is never readable by others, even for a moment, even
 * when the old file was.
 */
export function saveConfigFile(env: Env, config: SavedConfig): string {
  const path = configFilePath(env);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  rmSync(temp, { force: true }); // a leftover of a crash, whatever its mode: "wx" then creates it 0600
  try {
    writeFileSync(temp, JSON.stringify(config, null, 2) + "\n", { mode: 0o600, flag: "wx" });
    renameSync(temp, path);
  } finally {
    rmSync(temp, { force: true });
  }
  return path;
}
