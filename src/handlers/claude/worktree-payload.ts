// The worktree fields of a Claude payload (worktree, base, base_commit,
// setup, copy, worktree_of), checked at enqueue: the cwd must be inside a git
// repository, and the base ref is resolved there and then to the commit the
// job's branch will start from, so the job runs on what the repository was
// when it was enqueued. A repository may give defaults for setup and copy in
// `.claude-jobs.json` at its top level; the payload's own fields win.

import { readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { InputError } from "../../errors.ts";
import { GitError, repoInfoSync, resolveCommitSync } from "../../git/repo.ts";

export interface WorktreeFields {
  /** Run in a git worktree of its own, on a branch named after the job. Default false. */
  worktree?: boolean;
  /** The ref the branch starts from, as given (default HEAD). */
  base?: string;
  /** The commit `base` resolved to at enqueue (40 hex). */
  base_commit?: string;
  /** A shell command run in the new worktree before Claude starts. */
  setup?: string;
  /** Globs of files copied from the user's checkout into the worktree (relative to its top level). */
  copy?: string[];
  /** Use the worktree and branch of this job (a follow-up) instead of making a new one. */
  worktree_of?: string;
  /** The job this one follows up (for the job page's chain; the handler does nothing with it). */
  follow_up_of?: string;
}

export const WORKTREE_KEYS = ["worktree", "base", "base_commit", "setup", "copy", "worktree_of", "follow_up_of"] as const;

/** The repository file with per-repository defaults. */
export const REPO_CONFIG_FILE = ".claude-jobs.json";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SHA = /^[0-9a-f]{40}$/;
const show = (value: unknown) => (value === undefined ? "nothing" : JSON.stringify(value) ?? String(value));

/**
 * Checks the worktree fields of `p` (cwd already validated, a realpath) and
 * returns them normalized. With `resolve`, also the git side: the cwd is in
 * a repository, base resolves to a commit, the repository's defaults apply.
 */
export function validateWorktreeFields(p: Record<string, unknown>, cwd: string, resolveInGit: boolean): WorktreeFields {
  const out: WorktreeFields = {};
  if (p.worktree !== undefined) {
    if (typeof p.worktree !== "boolean") throw new InputError("payload.worktree", `must be true or false; got ${show(p.worktree)}`);
    out.worktree = p.worktree;
  }
  if (p.follow_up_of !== undefined) {
    if (typeof p.follow_up_of !== "string" || !UUID.test(p.follow_up_of)) {
      throw new InputError("payload.follow_up_of", `must be the id of the job this one follows up (a UUID); got ${show(p.follow_up_of)}`);
    }
    out.follow_up_of = p.follow_up_of.toLowerCase();
  }
  const others = WORKTREE_KEYS.filter((k) => k !== "worktree" && k !== "follow_up_of" && p[k] !== undefined);
  if (out.worktree !== true) {
    if (others.length > 0) throw new InputError(`payload.${others[0]}`, "needs payload.worktree: true (enqueue --worktree)");
    return out;
  }
  if (p.base !== undefined) {
    if (typeof p.base !== "string" || p.base.trim() === "" || p.base.startsWith("-") || /[\0\s]/.test(p.base)) {
      throw new InputError("payload.base", `must be a git ref or commit (a branch, tag or sha, not starting with "-"); got ${show(p.base)}`);
    }
    out.base = p.base;
  }
  if (p.base_commit !== undefined) {
    if (typeof p.base_commit !== "string" || !SHA.test(p.base_commit)) {
      throw new InputError("payload.base_commit", `must be a full 40-character commit sha (it is set at enqueue from payload.base); got ${show(p.base_commit)}`);
    }
    out.base_commit = p.base_commit;
  }
  if (p.setup !== undefined) {
    if (typeof p.setup !== "string" || p.setup.includes("\0")) throw new InputError("payload.setup", `must be a shell command (a string); got ${show(p.setup)}`);
    out.setup = p.setup;
  }
  if (p.copy !== undefined) out.copy = globs("payload.copy", p.copy);
  if (p.worktree_of !== undefined) {
    if (typeof p.worktree_of !== "string" || !UUID.test(p.worktree_of)) {
      throw new InputError("payload.worktree_of", `must be the id of the job whose worktree to use (a UUID); got ${show(p.worktree_of)}`);
    }
    out.worktree_of = p.worktree_of.toLowerCase();
  }
  if (resolveInGit) resolveInRepository(out, cwd);
  return out;
}

function resolveInRepository(out: WorktreeFields, cwd: string): void {
  const info = repoInfoSync(cwd);
  if ("why" in info) {
    throw new InputError("payload.worktree",
      `(--worktree) needs payload.cwd inside a git repository; ${cwd} is not in one (git: ${info.why}). ` +
        "Run `git init` there and commit, or enqueue without --worktree");
  }
  const defaults = repoDefaults(info.topLevel);
  if (out.setup === undefined && defaults.setup !== undefined) out.setup = defaults.setup;
  if (out.copy === undefined && defaults.copy !== undefined) out.copy = defaults.copy;
  const field = out.base_commit !== undefined ? "payload.base_commit" : "payload.base";
  const ref = out.base_commit ?? out.base ?? "HEAD";
  try {
    out.base_commit = resolveCommitSync(cwd, ref);
  } catch (e: unknown) {
    const said = e instanceof GitError ? e.stderr.trim().split("\n")[0] : String(e);
    const why = ref === "HEAD" ? `the repository ${info.topLevel} has no commit yet; commit once, or give payload.base` : `${show(ref)} is no commit in ${info.topLevel}`;
    throw new InputError(field, `must name a commit to start the job's branch from; ${why}${said ? ` (git: ${said})` : ""}`);
  }
}

/** `.claude-jobs.json` at the repository's top level: `{"worktree": {"setup": "...", "copy": ["..."]}}`. */
export function repoDefaults(topLevel: string): { setup?: string; copy?: string[] } {
  const path = join(topLevel, REPO_CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e: unknown) {
    throw new InputError(path, `must be JSON like {"worktree": {"setup": "bun install", "copy": [".env"]}}: ${(e as Error).message}`);
  }
  const w = (parsed as { worktree?: unknown } | null)?.worktree;
  if (w === undefined) return {};
  if (w === null || typeof w !== "object" || Array.isArray(w)) throw new InputError(`${path} worktree`, 'must be an object like {"setup": "bun install", "copy": [".env"]}');
  const { setup, copy } = w as Record<string, unknown>;
  if (setup !== undefined && (typeof setup !== "string" || setup.includes("\0"))) throw new InputError(`${path} worktree.setup`, `must be a shell command; got ${show(setup)}`);
  return { ...(setup !== undefined ? { setup: setup as string } : {}), ...(copy !== undefined ? { copy: globs(`${path} worktree.copy`, copy) } : {}) };
}

function globs(field: string, value: unknown): string[] {
  const ok = Array.isArray(value) && value.every((v) => typeof v === "string" && v.trim() !== "" && !v.includes("\0"));
  if (!ok) throw new InputError(field, `must be an array of file globs relative to the repository's top level, like [".env", "config/*.local.json"]; got ${show(value)}`);
  for (const g of value as string[]) {
    if (isAbsolute(g) || g.split("/").includes("..") || g === ".git" || g.startsWith(".git/")) {
      throw new InputError(field, `must hold globs inside the repository (relative, no "..", not .git); got ${show(g)}`);
    }
  }
  return value as string[];
}

/** The repository's common git dir, for the concurrency key of worktree jobs; null when the cwd is in none. */
export function repositoryKeyOf(cwd: string): string | null {
  const info = repoInfoSync(cwd);
  return "why" in info ? null : info.commonDir;
}
