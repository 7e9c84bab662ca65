// The dashboard's access token when none is given: generated at first start
// into a file only its owner can read ($XDG_CONFIG_HOME/claude-jobs/token,
// default ~/.config/claude-jobs/token; mode 0600 in a 0700 folder), and read
// back at every later start, as Jupyter and code-server do. The CLI prints a
// login URL holding it once; the browser then keeps a session cookie.
// Reads no environment of its own: the caller hands in its snapshot.

import { chmodSync, closeSync, fstatSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { configFilePath, homeDir, type Env } from "../config.ts";
import { ConfigError } from "../errors.ts";
import { generateToken, tokenWeakness } from "./security.ts";

export interface TokenFile {
  token: string;
  path: string;
  /** True when this call generated it (the CLI may say so). */
  created: boolean;
}

/**
 * `$CLAUDE_JOBS_TOKEN_FILE`, else `token` in claude-jobs' config folder:
 * the folder of `$CLAUDE_JOBS_CONFIG` when that is set, else
 * `$XDG_CONFIG_HOME/claude-jobs` (default `~/.config/claude-jobs`).
 */
export function tokenFilePath(env: Env): string {
  if (env.CLAUDE_JOBS_TOKEN_FILE) return env.CLAUDE_JOBS_TOKEN_FILE;
  const folder = env.CLAUDE_JOBS_CONFIG ? dirname(configFilePath(env)) : join(env.XDG_CONFIG_HOME || join(homeDir(env), ".config"), "claude-jobs");
  return join(folder, "token");
}

/** The uid of this process, or null where there is none (not POSIX). */
const myUid = () => (typeof process.getuid === "function" ? process.getuid() : null);

function readChecked(path: string): string {
  const fd = openSync(path, "r");
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ConfigError(`token file ${path} is not a regular file; remove it (a new token is made at the next start)`);
    const uid = myUid();
    if (uid !== null && st.uid !== uid) {
      throw new ConfigError(`token file ${path} belongs to uid ${st.uid}, not to this user (${uid}); remove it, or set CLAUDE_JOBS_TOKEN_FILE to a file of your own`);
    }
    if ((st.mode & 0o077) !== 0) {
      throw new ConfigError(
        `token file ${path} can be read by other users (mode ${(st.mode & 0o777).toString(8).padStart(4, "0")}): ` +
          `whoever read it can run agents as you. Remove it (a new token is made at the next start), or chmod 600 it if you are sure nobody did`,
      );
    }
    const token = readFileSync(fd, "utf8").trim();
    const weak = tokenWeakness(token);
    if (weak) throw new ConfigError(`token file ${path}: the token ${weak}; remove the file to have a new one generated`);
    return token;
  } finally {
    closeSync(fd);
  }
}

/**
 * The token in the token file, made first if there is none. Creation is
 * race-free between processes (written to a private temporary file, then
 * hard-linked into place: the first link wins, the others read it). A file
 * that others may read, that is not ours, or that holds a weak token is
 * refused with a ConfigError saying what to do.
 */
export function loadOrCreateToken(env: Env): TokenFile {
  const path = tokenFilePath(env);
  try {
    return { token: readChecked(path), path, created: false };
  } catch (e: unknown) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") {
      if (e instanceof ConfigError) throw e;
      throw new ConfigError(`token file ${path} cannot be read: ${(e as Error).message}`);
    }
  }
  const folder = dirname(path);
  try {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
  } catch (e: unknown) {
    throw new ConfigError(`cannot create the folder ${folder} for the dashboard's token: ${(e as Error).message}`);
  }
  const token = generateToken();
  const temp = join(folder, `.token-${process.pid}-${Math.random().toString(36).slice(2)}`);
  try {
    writeFileSync(temp, token + "\n", { mode: 0o600, flag: "wx" });
    chmodSync(temp, 0o600);
    try {
      linkSync(temp, path);
    } catch (e: unknown) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      return { token: readChecked(path), path, created: false };
    }
    return { token, path, created: true };
  } catch (e: unknown) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(`cannot write the dashboard's token file ${path}: ${(e as Error).message}`);
  } finally {
    rmSync(temp, { force: true });
  }
}
