// The one reader of the environment and of the saved configuration file.
// Resolution order, everywhere: flag > environment variable > config file >
// default. Commands declare their options (src/cli/options.ts) with the env
// var that backs each one; this module supplies the values behind them.

import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { ConfigError } from "./errors.ts";

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
}

export function loadConfigFile(env: Env): SavedConfig {
  const path = configFilePath(env);
  if (!existsSync(path)) return {};
  try {
    const parsed = JSON.parse(readFileSync(path, "utf8")) as unknown;
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not a JSON object");
    const config = parsed as Record<string, unknown>;
    if (config.databaseUrl !== undefined && typeof config.databaseUrl !== "string") {
      throw new Error("databaseUrl must be a string");
    }
    return { databaseUrl: config.databaseUrl as string | undefined };
  } catch (e: unknown) {
    throw new ConfigError(`config file ${path}: ${(e as Error).message}; fix or delete it`);
  }
}

/** Writes the config file with mode 0600: a database URL may hold a password. */
export function saveConfigFile(env: Env, config: SavedConfig): string {
  const path = configFilePath(env);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, JSON.stringify(config, null, 2) + "\n", { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}
