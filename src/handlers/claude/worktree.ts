// A Claude job's worktree at run time: before the CLI starts, the worktree
// is made (or found again: a retry, a rescued attempt and a follow-up use the
// same folder and branch), files are copied in from the user's checkout and
// the setup command runs, its output in the attempt's stderr log; after the
// CLI ends, what the agent left uncommitted is committed on the job's branch
// and base..head is measured for result.worktree. Worktrees of ended jobs are
// pruned after a TTL (their branch stays), with no database: a marker file
// next to each worktree says when its job ended.

import { appendFileSync } from "node:fs";
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { git, inWorktree, isInside } from "../../git/repo.ts";
import {
  branchBase, branchExists, commitLeftovers, diffStat, ensureWorktree, headCommit, removeWorktree, setBranchBase, worktreeFor,
} from "../../git/worktree.ts";
import { PermanentJobError, RetryJobError, type JobRecord } from "../types.ts";
import { tailFile } from "./logs.ts";
import type { ClaudePayload } from "./payload.ts";
import { runInProcessGroup } from "./process.ts";

/** What result.worktree holds (the contract with the diff, discard and follow-up commands). */
export interface WorktreeResult {
  [key: string]: unknown;
  rootJobId: string;
  repository: string;
  path: string;
  branch: string;
  baseCommit: string;
  headCommit: string;
  changed: boolean;
  filesChanged: number;
  insertions: number;
  deletions: number;
  committedLeftovers: boolean;
}

export interface PreparedWorktree {
  rootJobId: string;
  repository: string;
  path: string;
  branch: string;
  baseCommit: string;
  /** Where the CLI runs: the worktree, or the same subfolder of it as payload.cwd is of the checkout. */
  cwd: string;
  /** HEAD when the CLI started, to tell whether this run changed anything. */
  headBefore: string;
  /** Files copied in (relative paths), never committed. */
  copied: string[];
}

export interface WorktreeSettings {
  root: string;
  /** Environment for git (the worker's). */
  gitEnv: Record<string, string | undefined>;
  /** Environment for the setup command (the CLI's: its allow-list). */
  childEnv: Record<string, string | undefined>;
  killGraceMs: number;
  /** The clock of the ended markers. */
  now: () => Date;
}

const note = (logPath: string, text: string) => {
  try {
    appendFileSync(logPath, `[claude-jobs] ${text}\n`);
  } catch {
    // the note is for people; the run goes on without it
  }
};

/** The top level and common dir of the checkout holding `cwd`, asked of git at run time (without blocking). */
async function checkoutOf(cwd: string, env: Record<string, string | undefined>): Promise<{ topLevel: string; subdir: string }> {
  try {
    const [top, prefix] = (await git(["rev-parse", "--show-toplevel", "--show-prefix"], { cwd, env })).split("\n");
    return { topLevel: top!.trim(), subdir: (prefix ?? "").trim().replace(/\/$/, "") };
  } catch (e: unknown) {
    throw new PermanentJobError(`the job's cwd ${cwd} is no longer inside a git repository (${(e as Error).message}); ` +
      "a worktree job needs one. Enqueue it again from a repository, or without worktree.", { cause: e });
  }
}

/** Makes the job's worktree ready for the CLI: created or found again, files copied, setup run. */
export async function prepareWorktree(
  p: { job: JobRecord; payload: ClaudePayload; stderrLog: string; stdoutLog: string; signal: AbortSignal; timeoutMs?: number },
  s: WorktreeSettings,
  /** Called once the worktree exists, before copy and setup (which may take minutes). */
  onWorktree?: (w: { rootJobId: string; repository: string; path: string; branch: string; baseCommit: string }) => void,
): Promise<PreparedWorktree> {
  const { topLevel, subdir } = await checkoutOf(p.payload.cwd, s.gitEnv);
  if (isInside(s.root, topLevel)) {
    throw new PermanentJobError(`the worktree folder ${s.root} is inside the repository ${topLevel}; worktrees never go into the ` +
      "user's checkout. Point the worker's --worktree-dir elsewhere.");
  }
  const rootJobId = p.payload.worktree_of ?? p.job.id;
  const { path, branch } = worktreeFor(topLevel, rootJobId, s.root);
  // This job uses it now: no prune pass may take it (see pruneEndedWorktrees).
  await rm(endedMarker(path), { force: true });
  const follow = p.payload.worktree_of !== undefined;
  if (follow && !(await branchExists(topLevel, branch, s.gitEnv))) {
    throw new PermanentJobError(`the branch ${branch} of job ${rootJobId} (payload.worktree_of) no longer exists in ${topLevel}: ` +
      "it was discarded or deleted. Enqueue a new job instead of a follow-up.");
  }
  const baseCommit = (await branchBase(topLevel, branch, s.gitEnv)) ?? p.payload.base_commit;
  if (!baseCommit) throw new PermanentJobError("the job has no payload.base_commit; enqueue it again (the base commit is resolved at enqueue)");
  const { created } = await ensureWorktree({ repository: topLevel, path, branch, baseCommit, env: s.gitEnv, signal: p.signal });
  if (created) await setBranchBase(topLevel, branch, baseCommit, s.gitEnv);
  note(p.stderrLog, `worktree ${path} on branch ${branch} (${created ? "created" : "reused"}; base ${baseCommit})`);
  onWorktree?.({ rootJobId, repository: topLevel, path, branch, baseCommit });

  try {
    // Copy and setup when the worktree is new (or re-created), or when they
    // did not complete on it before (a failed setup is run again by the retry).
    const fresh = created || !(await exists(readyMarker(path)));
    if (fresh) await rm(readyMarker(path), { force: true });
    const copied = fresh ? await copyFiles(topLevel, path, p.payload.copy ?? []) : await copiedBefore(path);
    if (fresh && copied.length > 0) note(p.stderrLog, `copied into the worktree: ${copied.join(", ")}`);
    const cwd = inWorktree(path, subdir);
    await mkdir(cwd, { recursive: true });
    const prepared = { rootJobId, repository: topLevel, path, branch, baseCommit, cwd, headBefore: await headCommit(path, s.gitEnv), copied };
    if (fresh && p.payload.setup !== undefined) await runSetup(p, s, prepared);
    if (fresh) await writeFile(readyMarker(path), JSON.stringify({ copied, setup: p.payload.setup ?? null }), { mode: 0o600 });
    else note(p.stderrLog, "copy and setup were done on this worktree before: not run again");
    return prepared;
  } catch (e: unknown) {
    // The attempt ends here: if it was the last, the worktree is pruned in its time like any other.
    await markEnded({ repository: topLevel, path, branch }, s.now()).catch(() => {});
    throw e;
  }
}

/** Next to the worktree: written once its copy and setup completed, with the files copied (never to be committed). */
const readyMarker = (path: string) => `${path}.ready`;

const exists = (path: string) => stat(path).then(() => true, () => false);

async function copiedBefore(path: string): Promise<string[]> {
  try {
    const { copied } = JSON.parse(await readFile(readyMarker(path), "utf8")) as { copied?: unknown };
    return Array.isArray(copied) ? copied.filter((c): c is string => typeof c === "string") : [];
  } catch {
    return [];
  }
}

/** Files matching the globs in the user's checkout, copied to the same places in the worktree; their relative paths. */
async function copyFiles(from: string, to: string, patterns: string[]): Promise<string[]> {
  const copied = new Set<string>();
  for (const pattern of patterns) {
    for await (const rel of new Bun.Glob(pattern).scan({ cwd: from, dot: true, onlyFiles: true, followSymlinks: false })) {
      if (rel === ".git" || rel.startsWith(".git/") || rel.split("/").includes("..")) continue;
      await mkdir(dirname(join(to, rel)), { recursive: true });
      await copyFile(join(from, rel), join(to, rel));
      copied.add(rel);
    }
  }
  return [...copied].sort();
}

/** The setup command, in the worktree, its output appended to the stderr log; a failure fails the attempt with that output. */
async function runSetup(
  p: { job: JobRecord; payload: ClaudePayload; stderrLog: string; stdoutLog: string; signal: AbortSignal; timeoutMs?: number },
  s: WorktreeSettings, w: PreparedWorktree,
): Promise<void> {
  const setup = p.payload.setup!;
  note(p.stderrLog, `setup: ${setup}`);
  const logStart = Bun.file(p.stderrLog).size;
  const run = await runInProcessGroup({
    command: "/bin/sh", args: ["-c", setup], cwd: w.cwd, env: s.childEnv, stdoutPath: p.stderrLog, stderrPath: p.stderrLog,
    signal: p.signal, timeoutMs: p.timeoutMs, killGraceMs: s.killGraceMs, marker: { jobId: p.job.id },
  });
  if (run.stoppedBy === "abort") throw new Error("the job was stopped during its worktree setup");
  const how = run.spawnError ? `could not start (${run.spawnError.message})` : run.stoppedBy === "timeout" ? "timed out"
    : run.signal ? `was killed by ${run.signal}` : run.exitCode !== 0 ? `exited with code ${run.exitCode}` : null;
  note(p.stderrLog, `setup ${how ?? "succeeded"}`);
  if (how === null) return;
  const output = await tailFile(p.stderrLog, 20, 4096, logStart);
  throw new RetryJobError(`the worktree setup command ${JSON.stringify(setup)} ${how}${output ? `:\n${output}` : ""}\n(full output in ${p.stderrLog})`, {
    delaySeconds: 0,
    result: { stdoutLog: p.stdoutLog, stderrLog: p.stderrLog, worktree: { ...identity(w), headCommit: w.headBefore, setupFailed: true } },
  });
}

const identity = (w: PreparedWorktree) => ({ rootJobId: w.rootJobId, repository: w.repository, path: w.path, branch: w.branch, baseCommit: w.baseCommit });

/** The first line of the agent's answer, bounded, as a commit subject. */
export function commitSubject(resultText: string | null, jobId: string): string {
  const first = (resultText ?? "").split("\n").map((l) => l.trim()).find((l) => l !== "") ?? "";
  const clean = first.replace(/[\u0000-\u001f\u007f]/g, " ").replace(/^#+\s*/, "");
  if (clean === "") return `claude-jobs: changes of job ${jobId}`;
  return clean.length > 72 ? `${clean.slice(0, 71).trimEnd()}…` : clean;
}

/** After the CLI: leftovers committed on the branch, base..head measured. */
export async function finishWorktree(w: PreparedWorktree, r: { jobId: string; attempt: number; resultText: string | null; failed: boolean }, s: WorktreeSettings): Promise<WorktreeResult> {
  const subject = r.failed ? `claude-jobs: work in progress of job ${r.jobId} (attempt ${r.attempt} failed)` : commitSubject(r.resultText, r.jobId);
  const message = `${subject}\n\nCommitted by claude-jobs: what the agent left uncommitted.\n\nClaude-Jobs-Job: ${r.jobId}`;
  const committedLeftovers = await commitLeftovers(w.path, message, { exclude: w.copied, env: s.gitEnv });
  const head = await headCommit(w.path, s.gitEnv);
  const stat = await diffStat(w.path, w.baseCommit, head, s.gitEnv);
  return { ...identity(w), headCommit: head, changed: head !== w.headBefore, ...stat, committedLeftovers };
}

// --- Pruning the worktrees of ended jobs ---

/** Next to the worktree folder (not in it: it would be committed): written when the job's attempt ends. */
export const endedMarker = (path: string) => `${path}.ended`;

export async function markEnded(w: { repository: string; path: string; branch: string }, at: Date): Promise<void> {
  await writeFile(endedMarker(w.path), JSON.stringify({ repository: w.repository, path: w.path, branch: w.branch, endedAt: at.toISOString() }), { mode: 0o600 });
}

/**
 * Removes the worktrees whose job ended at least `ttlMs` ago (their marker
 * says when), keeping their branches. A job that starts with the worktree
 * deletes the marker first; taking a marker is a rename, so two pruners
 * (two workers on one host) never both remove one. Best effort: a worktree
 * that cannot be removed now is tried again at the next pass.
 */
export async function pruneEndedWorktrees(root: string, ttlMs: number, now: Date, gitEnv?: Record<string, string | undefined>): Promise<string[]> {
  const removed: string[] = [];
  let repos: string[];
  try {
    repos = await readdir(root);
  } catch {
    return removed;
  }
  for (const repoDir of repos) {
    let all: string[];
    try {
      all = await readdir(join(root, repoDir));
    } catch {
      continue;
    }
    // A ready marker whose worktree was removed otherwise (discard) and that no ended marker will sweep.
    for (const name of all.filter((n) => n.endsWith(".ready"))) {
      const path = join(root, repoDir, name.slice(0, -".ready".length));
      if (!all.includes(`${basename(path)}.ended`) && !(await exists(path))) await rm(`${path}.ready`, { force: true }).catch(() => {});
    }
    const names = all.filter((n) => n.endsWith(".ended"));
    for (const name of names) {
      const marker = join(root, repoDir, name);
      try {
        const info = JSON.parse(await readFile(marker, "utf8")) as { repository: string; path: string; branch: string; endedAt: string };
        if (now.getTime() - Date.parse(info.endedAt) < ttlMs || info.path !== marker.slice(0, -".ended".length)) continue;
        const taken = `${marker}.pruning-${process.pid}`;
        await rename(marker, taken);
        try {
          await removeWorktree(info, { deleteBranch: false, env: gitEnv });
        } catch {
          await rename(taken, marker).catch(() => {}); // the next pass tries again
          continue;
        }
        await rm(taken, { force: true });
        await rm(readyMarker(info.path), { force: true });
        removed.push(info.path);
      } catch {
        // unreadable, or taken by another pruner
      }
    }
  }
  return removed;
}
