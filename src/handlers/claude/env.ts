// The environment the Claude Code CLI runs with: an allow-list taken from the
// worker's environment, never the whole of it. A prompt-injected agent can
// run any command, so it must not find the queue's own credentials
// (DATABASE_URL, PGPASSWORD, CLAUDE_JOBS_TOKEN, ...) or anything else secret
// the worker happens to hold. It gets what a shell and Claude need: the
// user's identity and locale, proxies and CA certificates, XDG folders,
// Claude's own ANTHROPIC_* / CLAUDE_* settings, and what the operator lists
// (passEnv: names, or prefixes ending in `*`). claude-jobs' own CLAUDE_JOBS_*
// are dropped even when listed; the job markers (CLAUDE_JOBS_OWNER,
// CLAUDE_JOBS_JOB) are added afterwards by process.ts.

import { resolve, sep } from "node:path";
import { InputError } from "../../errors.ts";

type Env = Readonly<Record<string, string | undefined>>;

/** Passed as they are, when set. */
export const ALLOWED_NAMES: readonly string[] = [
  // who and where
  "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "COLORTERM", "TZ", "TMPDIR", "LANG", "LANGUAGE",
  // proxies
  "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "no_proxy", "all_proxy",
  // certificate authorities (a TLS-inspecting proxy's CA, for Node, curl, git, Python, ...)
  "SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS", "NODE_USE_SYSTEM_CA", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO",
  // Claude Code refuses --dangerously-skip-permissions as root without it
  "IS_SANDBOX",
];

/** Passed when the name starts with one of these (except DENIED_PREFIXES). */
export const ALLOWED_PREFIXES: readonly string[] = ["LC_", "XDG_", "ANTHROPIC_", "CLAUDE_"];

/**
 * Never passed, even when listed in passEnv: claude-jobs' own settings and
 * secrets, and the queue's database (DATABASE_URL, libpq's PG* variables):
 * an agent talked into it must not reach the queue that runs agents.
 */
export const DENIED_PREFIXES: readonly string[] = ["CLAUDE_JOBS_", "PG"];
export const DENIED_NAMES: readonly string[] = ["DATABASE_URL"];

/** This package's root: its node_modules/.bin holds a pinned dev copy of the Claude CLI. */
export const PACKAGE_ROOT = resolve(import.meta.dir, "..", "..", "..");

export interface ClaudeEnvOptions {
  /** More variables to pass: names (`AWS_PROFILE`) or prefixes ending in `*` (`AWS_*`). */
  passEnv?: readonly string[];
  /** Folders to drop from PATH. Default: this package's node_modules/.bin. */
  dropFromPath?: readonly string[];
}

/** A passEnv entry is a variable name, or a prefix ending in `*`. */
export const PASS_ENV_ENTRY = /^[A-Za-z_][A-Za-z0-9_]*\*?$|^\*$/;

/**
 * What of the denied variables (DENIED_NAMES, DENIED_PREFIXES) a passEnv
 * entry would take, as a phrase ("DATABASE_URL", "PG* variables"), or null.
 * A broader prefix counts when it reaches into a denied one (`P*` takes PG*),
 * unless an allowed prefix already grants the ground (`CLAUDE_*`, `C*`:
 * claudeEnv drops CLAUDE_JOBS_* from those anyway). Callers that take a
 * passEnv from a user refuse such an entry rather than drop it in silence.
 */
export function passEnvDenied(entry: string): string | null {
  const prefix = entry.endsWith("*") ? entry.slice(0, -1) : null;
  for (const name of DENIED_NAMES) if (prefix === null ? entry === name : name.startsWith(prefix)) return name;
  for (const denied of DENIED_PREFIXES) {
    const within = (prefix ?? entry).startsWith(denied);
    const broader = prefix !== null && denied.startsWith(prefix) && !ALLOWED_PREFIXES.some((a) => a.startsWith(prefix));
    if (within || broader) return `${denied}* variables`;
  }
  return null;
}

/** Checks passEnv entries; returns why one is not acceptable, or null. */
export function passEnvProblem(entries: readonly string[]): string | null {
  for (const e of entries) {
    if (!PASS_ENV_ENTRY.test(e) || e === "*") {
      return `${JSON.stringify(e)} is not a variable name or a prefix ending in * (like AWS_*)`;
    }
  }
  return null;
}

const matches = (name: string, entry: string) => (entry.endsWith("*") ? name.startsWith(entry.slice(0, -1)) : name === entry);

/**
 * `<root>/node_modules/.bin` comes first on PATH under `bun run` (and npm
 * scripts), and this package's holds a dev copy of the Claude CLI, which
 * would shadow the user's own `claude`: it is taken out.
 */
export function cleanPath(path: string, drop: readonly string[] = [resolve(PACKAGE_ROOT, "node_modules", ".bin")]): string {
  const dropped = new Set(drop.map((d) => resolve(d)));
  return path
    .split(":")
    .filter((dir) => dir !== "" && !(dir.startsWith(sep) && dropped.has(resolve(dir))))
    .join(":");
}

/** The CLI's environment, built from the worker's `env` (see the header). */
export function claudeEnv(env: Env, o: ClaudeEnvOptions = {}): Record<string, string> {
  const pass = o.passEnv ?? [];
  const problem = passEnvProblem(pass);
  if (problem) throw new InputError("passEnv", problem);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (DENIED_NAMES.includes(name) || DENIED_PREFIXES.some((p) => name.startsWith(p))) continue;
    const allowed = ALLOWED_NAMES.includes(name) || ALLOWED_PREFIXES.some((p) => name.startsWith(p)) || pass.some((e) => matches(name, e));
    if (allowed) out[name] = value;
  }
  if (out.PATH !== undefined) out.PATH = cleanPath(out.PATH, o.dropFromPath);
  return out;
}
