// Running git: always an argv array (never a shell), a timeout, an
// environment that cannot point git at another repository (GIT_DIR and the
// like are dropped, so the cwd decides), no prompt for credentials, and
// errors that carry git's own stderr. Callers put `--end-of-options` or `--`
// before anything a user wrote, so a ref or a path can never be read as an
// option. Knows nothing of jobs.

import { execFile, spawnSync } from "node:child_process";
import { realpathSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";

/** Long enough for a checkout of a big repository on a slow disk; git never waits for input here. */
export const GIT_TIMEOUT_MS = 120_000;
const MAX_OUTPUT = 64 << 20;

/** Variables that would make git act on another repository, index or config than the cwd's. */
const REPO_VARS = [
  "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_COMMON_DIR", "GIT_NAMESPACE", "GIT_CEILING_DIRECTORIES", "GIT_PREFIX", "GIT_CONFIG", "GIT_CONFIG_PARAMETERS",
  "GIT_CONFIG_COUNT",
];

export class GitError extends Error {
  readonly args: string[];
  readonly exitCode: number | null;
  readonly stderr: string;
  constructor(args: string[], cwd: string, exitCode: number | null, stderr: string, why?: string) {
    const said = stderr.trim().split("\n").slice(-10).join("\n");
    super(`git ${args.join(" ")} (in ${cwd}) ${why ?? `exited with code ${exitCode}`}${said ? `: ${said}` : ""}`);
    this.name = "GitError";
    this.args = args;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

export interface GitOptions {
  cwd: string;
  timeoutMs?: number;
  /** The environment git runs in (default process.env), less REPO_VARS. */
  env?: Record<string, string | undefined>;
  /** Stops git (SIGKILL) when aborted: a cancelled job does not wait for a long checkout. */
  signal?: AbortSignal;
}

export function gitEnv(env: Record<string, string | undefined> = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !REPO_VARS.includes(k)) out[k] = v;
  // Never wait for a password or an editor: nobody is there to answer.
  return { ...out, GIT_TERMINAL_PROMPT: "0", GIT_EDITOR: "true", GIT_PAGER: "cat", LC_ALL: "C" };
}

/** Runs git; resolves to its stdout, or rejects with a GitError carrying its stderr. */
export function git(args: string[], o: GitOptions): Promise<string> {
  return new Promise((resolveRun, reject) => {
    execFile("git", args, {
      cwd: o.cwd, env: gitEnv(o.env), timeout: o.timeoutMs ?? GIT_TIMEOUT_MS, maxBuffer: MAX_OUTPUT, killSignal: "SIGKILL", signal: o.signal,
    }, (error, stdout, stderr) => {
      if (!error) return resolveRun(stdout);
      // A spawn failure has a string code (ENOENT: no git); an exit, the number.
      const e = error as Error & { killed?: boolean; code?: number | string };
      if (e.code === "ENOENT") return reject(new GitError(args, o.cwd, null, "", "could not run: git is not installed or not on PATH"));
      const why = o.signal?.aborted ? "was stopped: the job was aborted"
        : e.killed ? `did not finish within ${(o.timeoutMs ?? GIT_TIMEOUT_MS) / 1000}s` : undefined;
      reject(new GitError(args, o.cwd, typeof e.code === "number" ? e.code : null, String(stderr), why));
    });
  });
}

/** The same, blocking: for validation at enqueue, which is synchronous. */
export function gitSync(args: string[], o: GitOptions): string {
  const r = spawnSync("git", args, { cwd: o.cwd, env: gitEnv(o.env), timeout: o.timeoutMs ?? 15_000, maxBuffer: MAX_OUTPUT, encoding: "utf8", killSignal: "SIGKILL" });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    throw new GitError(args, o.cwd, null, r.stderr ?? "", code === "ENOENT" ? "could not run: git is not installed or not on PATH" : r.error.message);
  }
  if (r.status !== 0) throw new GitError(args, o.cwd, r.status, r.stderr ?? "");
  return r.stdout;
}

export interface RepoInfo {
  /** The top level of the working tree holding the directory (realpath): the user's checkout. */
  topLevel: string;
  /** The repository's common git dir (realpath): the same for every worktree of one repository. */
  commonDir: string;
  /** The directory relative to topLevel ("" at the top). */
  subdir: string;
}

/** The repository a directory is in, or null when it is in none (git's stderr as `why`). */
export function repoInfoSync(dir: string, env?: Record<string, string | undefined>): RepoInfo | { why: string } {
  let out: string;
  try {
    out = gitSync(["rev-parse", "--show-toplevel", "--git-common-dir"], { cwd: dir, env });
  } catch (e: unknown) {
    return { why: e instanceof GitError ? (e.stderr.trim().split("\n")[0] || e.message) : String(e) };
  }
  const [top, common] = out.trim().split("\n");
  if (!top || !common) return { why: "this is a bare repository or a .git folder, not a working tree" };
  const topLevel = realpathSync(top);
  const commonDir = realpathSync(isAbsolute(common) ? common : resolve(dir, common));
  return { topLevel, commonDir, subdir: relative(topLevel, realpathSync(dir)) };
}

/** A ref as a user writes it (a branch, tag, sha, HEAD~2): resolved to a commit's full sha, or GitError. */
export function resolveCommitSync(dir: string, ref: string, env?: Record<string, string | undefined>): string {
  return gitSync(["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`], { cwd: dir, env }).trim();
}

/** Whether `inner` is `outer` or inside it (both absolute, normalized). */
export function isInside(inner: string, outer: string): boolean {
  const rel = relative(outer, inner);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/** Joins a repository-relative subdir onto a worktree path. */
export const inWorktree = (worktree: string, subdir: string) => (subdir ? join(worktree, subdir) : worktree);
