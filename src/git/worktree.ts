// Git worktrees of jobs: where one lives (deterministic from the repository
// and the job that created it, so a retry, a rescued attempt and a follow-up
// all find the same folder and branch), creating or re-creating it, committing
// what an agent left uncommitted, measuring base..head, and removing it with
// no stale entry left in the repository's `git worktree list`. Knows nothing
// of the queue; every git call goes through repo.ts.

import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, join, resolve } from "node:path";
import { git, GitError, isInside } from "./repo.ts";

/** The default root: next to the Claude logs, $HOME/.local/shared/claude-jobs/worktrees. */
export function defaultWorktreeDir(env: Record<string, string | undefined> = process.env): string {
  return join(env.HOME || homedir(), ".local", "shared", "claude-jobs", "worktrees");
}

/** The branch of a job's worktree: one per root job. */
export const worktreeBranch = (rootJobId: string) => `claude-jobs/${rootJobId.toLowerCase()}`;

/** Where a repository's worktrees live under the root: its folder name plus a hash, so two `app` checkouts never meet. */
export function repositoryFolder(repository: string, worktreeRoot: string): string {
  const hash = createHash("sha256").update(repository).digest("hex").slice(0, 10);
  const name = basename(repository).replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 60) || "repo";
  return join(worktreeRoot, `${name}-${hash}`);
}

/** The worktree folder and branch of the job `rootJobId` in `repository` (a top level, realpath). */
export function worktreeFor(repository: string, rootJobId: string, worktreeRoot?: string): { path: string; branch: string } {
  const id = rootJobId.toLowerCase();
  if (!/^[0-9a-f-]{36}$/.test(id)) throw new Error(`a worktree is named after a job id (a UUID); got ${JSON.stringify(rootJobId)}`);
  return { path: join(repositoryFolder(repository, resolve(worktreeRoot ?? defaultWorktreeDir())), id), branch: worktreeBranch(id) };
}

export interface WorktreeEntry {
  path: string;
  head: string | null;
  /** refs/heads/..., or null (detached). */
  branch: string | null;
  locked: boolean;
  prunable: boolean;
}

/** `git worktree list --porcelain`, parsed. */
export async function listWorktrees(repository: string, env?: Record<string, string | undefined>): Promise<WorktreeEntry[]> {
  const out = await git(["worktree", "list", "--porcelain"], { cwd: repository, env });
  const entries: WorktreeEntry[] = [];
  for (const block of out.split("\n\n")) {
    const lines = block.split("\n").filter(Boolean);
    const path = lines.find((l) => l.startsWith("worktree "))?.slice(9);
    if (!path) continue;
    const value = (key: string) => lines.find((l) => l === key || l.startsWith(`${key} `))?.slice(key.length + 1) ?? null;
    entries.push({
      path, head: value("HEAD"), branch: value("branch"),
      locked: lines.some((l) => l === "locked" || l.startsWith("locked ")),
      prunable: lines.some((l) => l === "prunable" || l.startsWith("prunable ")),
    });
  }
  return entries;
}

export async function branchExists(repository: string, branch: string, env?: Record<string, string | undefined>): Promise<boolean> {
  try {
    await git(["rev-parse", "--verify", "--quiet", `refs/heads/${branch}`], { cwd: repository, env });
    return true;
  } catch (e: unknown) {
    if (e instanceof GitError && e.exitCode === 1) return false;
    throw e;
  }
}

export interface EnsureParams {
  repository: string;
  path: string;
  branch: string;
  /** Where a new branch starts. */
  baseCommit: string;
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
}

/**
 * Makes the worktree exist and be usable: kept as it is when it is a healthy
 * worktree of `branch` (a retry continues where the last attempt stopped),
 * else re-created: from the branch when it exists (a pruned worktree, an
 * attempt killed while `git worktree add` ran), from baseCommit when not.
 * Entries of folders that are gone are pruned first.
 */
export async function ensureWorktree(p: EnsureParams): Promise<{ created: boolean }> {
  const o = { cwd: p.repository, env: p.env, signal: p.signal };
  await git(["worktree", "prune"], o);
  const entry = (await listWorktrees(p.repository, p.env)).find((e) => e.path === p.path);
  if (entry && !entry.locked && !entry.prunable && entry.branch === `refs/heads/${p.branch}` && (await usable(p.path, p.env))) {
    return { created: false };
  }
  if (entry || existsSync(p.path)) await removeWorktree(p, { deleteBranch: false, env: p.env });
  // What is left is no worktree git knows (an add killed before it registered
  // the folder): the path is this job's own, so nothing else can be lost.
  if (existsSync(p.path)) await rm(p.path, { recursive: true, force: true });
  await mkdir(resolve(p.path, ".."), { recursive: true, mode: 0o700 });
  if (await branchExists(p.repository, p.branch, p.env)) {
    await git(["worktree", "add", "--", p.path, p.branch], o);
  } else {
    await git(["worktree", "add", "-b", p.branch, "--", p.path, p.baseCommit], o);
  }
  return { created: true };
}

async function usable(path: string, env?: Record<string, string | undefined>): Promise<boolean> {
  try {
    await git(["rev-parse", "--verify", "HEAD"], { cwd: path, env });
    return true;
  } catch {
    return false;
  }
}

/** Whether `path` is a linked worktree of the repository whose common dir is `commonDir` (its `.git` file points there). */
function linkedTo(path: string, commonDir: string | null): boolean {
  try {
    if (!statSync(join(path, ".git")).isFile()) return false;
    const target = /^gitdir: (.+)$/m.exec(readFileSync(join(path, ".git"), "utf8"))?.[1]?.trim();
    return target !== undefined && (commonDir === null || isInside(resolve(path, target), join(commonDir, "worktrees")));
  } catch {
    return false;
  }
}

/**
 * Removes a job's worktree: the folder and the repository's entry (`git
 * worktree remove --force --force`, then `git worktree prune`), and the
 * branch when asked. Idempotent: a folder, entry or branch already gone is
 * not an error. A folder is deleted only when git lists it as a worktree of
 * this repository or it is one (its `.git` file points into the repository):
 * never the repository itself, nor a folder that holds it.
 */
export async function removeWorktree(
  info: { repository: string; path: string; branch: string },
  options: { deleteBranch: boolean; env?: Record<string, string | undefined> },
): Promise<{ removedPath: boolean; deletedBranch: boolean }> {
  const path = resolve(info.path);
  if (isInside(info.repository, path)) throw new Error(`refusing to remove ${path}: it holds the repository ${info.repository}`);
  const o = { cwd: info.repository, env: options.env };
  const repositoryThere = existsSync(info.repository);
  let commonDir: string | null = null;
  let listed = false;
  if (repositoryThere) {
    commonDir = resolve(info.repository, (await git(["rev-parse", "--git-common-dir"], o)).trim());
    listed = (await listWorktrees(info.repository, options.env)).some((e) => e.path === path);
  }
  const present = existsSync(path);
  if (listed) {
    await git(["worktree", "remove", "--force", "--force", "--", path], o).catch(() => {});
  }
  if (existsSync(path) && (listed || linkedTo(path, commonDir))) await rm(path, { recursive: true, force: true });
  if (repositoryThere) await git(["worktree", "prune"], o);
  let deletedBranch = false;
  if (options.deleteBranch && repositoryThere && (await branchExists(info.repository, info.branch, options.env))) {
    await git(["branch", "-D", "--", info.branch], o);
    deletedBranch = true;
  }
  return { removedPath: (present || listed) && !existsSync(path), deletedBranch };
}

/** The commit HEAD of a working tree points at. */
export async function headCommit(dir: string, env?: Record<string, string | undefined>): Promise<string> {
  return (await git(["rev-parse", "--verify", "HEAD"], { cwd: dir, env })).trim();
}

/** The identity claude-jobs commits with where the repository has none (a machine with no git config). */
export const COMMIT_IDENTITY = { name: "claude-jobs", email: "claude-jobs@localhost" };

async function configValue(dir: string, key: string, env?: Record<string, string | undefined>): Promise<string | null> {
  try {
    return (await git(["config", "--get", key], { cwd: dir, env })).trim() || null;
  } catch {
    return null;
  }
}

/**
 * Commits everything uncommitted in a worktree (new files too, less what
 * .gitignore ignores and the `exclude` paths: files copied in from the
 * user's checkout, such as .env, never go into a commit). Hooks are not
 * run and nothing is signed: nobody is there to answer a prompt, and a
 * failing lint hook must not lose the agent's work. Whether it committed.
 */
export async function commitLeftovers(dir: string, message: string, o: { exclude?: string[]; env?: Record<string, string | undefined> } = {}): Promise<boolean> {
  const run = { cwd: dir, env: o.env };
  await git(["add", "-A", "--", "."], run);
  // Taken out of the index again rather than excluded from `add`: git refuses
  // an exclude pathspec that names an ignored file (.env usually is).
  const excluded = (o.exclude ?? []).map((p) => `:(literal)${p}`);
  if (excluded.length > 0) await git(["reset", "--quiet", "--", ...excluded], run);
  try {
    await git(["diff", "--cached", "--quiet"], run);
    return false; // nothing staged
  } catch (e: unknown) {
    if (!(e instanceof GitError && e.exitCode === 1)) throw e;
  }
  const identity: string[] = [];
  if (!(await configValue(dir, "user.name", o.env))) identity.push("-c", `user.name=${COMMIT_IDENTITY.name}`);
  if (!(await configValue(dir, "user.email", o.env))) identity.push("-c", `user.email=${COMMIT_IDENTITY.email}`);
  await git([...identity, "-c", "commit.gpgsign=false", "-c", "gc.auto=0", "-c", "maintenance.auto=false",
    "commit", "--no-verify", "--quiet", "-m", message], run);
  return true;
}

export interface DiffStat {
  filesChanged: number;
  insertions: number;
  deletions: number;
}

/** base..head, as `git diff --numstat` counts it (binary files count as changed, with no lines). */
export async function diffStat(dir: string, base: string, head: string, env?: Record<string, string | undefined>): Promise<DiffStat> {
  const out = await git(["diff", "--numstat", "-z", "--no-renames", "--end-of-options", base, head, "--"], { cwd: dir, env });
  const stat: DiffStat = { filesChanged: 0, insertions: 0, deletions: 0 };
  for (const record of out.split("\0")) {
    const m = /^(\d+|-)\t(\d+|-)\t/.exec(record);
    if (!m) continue;
    stat.filesChanged++;
    if (m[1] !== "-") stat.insertions += Number(m[1]);
    if (m[2] !== "-") stat.deletions += Number(m[2]);
  }
  return stat;
}

/** The base commit recorded for a job's branch (in the repository's config, so it lives and dies with the branch). */
export async function branchBase(repository: string, branch: string, env?: Record<string, string | undefined>): Promise<string | null> {
  return configValue(repository, `branch.${branch}.claudejobsbase`, env);
}

export async function setBranchBase(repository: string, branch: string, base: string, env?: Record<string, string | undefined>): Promise<void> {
  // Another job's git may hold .git/config's lock for an instant: try again.
  for (let attempt = 1; ; attempt++) {
    try {
      await git(["config", `branch.${branch}.claudejobsbase`, base], { cwd: repository, env });
      return;
    } catch (e: unknown) {
      if (attempt >= 20 || !(e instanceof GitError && /lock/i.test(e.stderr))) throw e;
      await Bun.sleep(25 * attempt);
    }
  }
}
