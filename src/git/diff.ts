// What a job's agent changed: the diff of its branch against its base commit
// (result.worktree, written by the Claude handler), per file, with the stat,
// bounded for a page. The branch is read from the main repository, so the
// diff survives the worktree folder being pruned; a branch that is gone (the
// job was discarded) is said so. File names and contents are the agent's:
// data to show, never to interpret (see read.ts for how git is run).

import { existsSync, statSync } from "node:fs";
import { isAbsolute } from "node:path";
import { gitRead, gitStream, gitText } from "./read.ts";
import { worktreeSnapshot } from "./snapshot.ts";
import { parseHunks, parseRawNumstat, sectionHeader, splitPatch, type FileEntry, type Hunk } from "./diff-parse.ts";

export type { FileEntry, FileStatus, Hunk, DiffLine, LineKind } from "./diff-parse.ts";

/** result.worktree as the handler records it (see /tmp/notes/worktree-contract.md). */
export interface WorktreeRecord {
  rootJobId: string;
  repository: string;
  path: string;
  branch: string;
  baseCommit: string;
  headCommit: string | null;
  changed: boolean | null;
  committedLeftovers: boolean | null;
}

const SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A branch name we pass to git: no option look-alike, no revision syntax (`..`, `@{`, `^`, `~`, `:`), nothing to quote. */
const BRANCH = /^(?!-)(?!.*\.\.)(?!.*\/\/)(?!.*@\{)[A-Za-z0-9._\/+-]{1,250}(?<![./])$/;

export type RecordCheck = { ok: true; record: WorktreeRecord } | { ok: false; field: string } | null;

/**
 * The worktree record of a job's result, checked field by field: the result
 * is stored data, and its branch and commits become git arguments. null: the
 * job has none (it did not use a worktree, or has not recorded it yet).
 */
export function readWorktreeRecord(result: unknown): RecordCheck {
  const w = (result as { worktree?: unknown } | null)?.worktree;
  if (w === undefined || w === null) return null;
  if (typeof w !== "object") return { ok: false, field: "worktree" };
  const r = w as Record<string, unknown>;
  const path = (v: unknown) => typeof v === "string" && isAbsolute(v) && !v.includes("\0") && v.length <= 4096;
  if (typeof r.rootJobId !== "string" || !UUID.test(r.rootJobId)) return { ok: false, field: "worktree.rootJobId" };
  if (!path(r.repository)) return { ok: false, field: "worktree.repository" };
  if (!path(r.path)) return { ok: false, field: "worktree.path" };
  if (typeof r.branch !== "string" || !BRANCH.test(r.branch) || r.branch.endsWith(".lock")) return { ok: false, field: "worktree.branch" };
  if (typeof r.baseCommit !== "string" || !SHA.test(r.baseCommit)) return { ok: false, field: "worktree.baseCommit" };
  if (r.headCommit != null && (typeof r.headCommit !== "string" || !SHA.test(r.headCommit))) return { ok: false, field: "worktree.headCommit" };
  return {
    ok: true,
    record: {
      rootJobId: r.rootJobId.toLowerCase(), repository: r.repository as string, path: r.path as string, branch: r.branch,
      baseCommit: r.baseCommit, headCommit: (r.headCommit as string | null | undefined) ?? null,
      changed: typeof r.changed === "boolean" ? r.changed : null,
      committedLeftovers: typeof r.committedLeftovers === "boolean" ? r.committedLeftovers : null,
    },
  };
}

export interface DiffLimits {
  /** Most bytes of patch read in all; files after that are listed without their hunks. */
  maxTotalBytes: number;
  /** A file whose patch is larger is listed without its hunks. */
  maxFileBytes: number;
  /** Most files listed; the stat's totals still count them all. */
  maxFiles: number;
}

/** For a page: what a browser renders without strain. */
export const PAGE_LIMITS: DiffLimits = { maxTotalBytes: 1 << 20, maxFileBytes: 256 << 10, maxFiles: 1000 };

/** Why a file's hunks are not shown: its own size, or the total was used up before it. */
export type CutReason = "file-too-large" | "total-limit";

export interface DiffFile extends FileEntry {
  hunks: Hunk[];
  cut: CutReason | null;
}

export interface DiffTotals {
  files: number;
  insertions: number;
  deletions: number;
}

export interface ReadyDiff {
  state: "ready";
  record: WorktreeRecord;
  /** The branch's commit now (a follow-up may have moved it past headCommit). */
  tipCommit: string;
  /** The tree of the worktree folder the diff was taken against (a running job's work so far); null: the branch's tip. */
  snapshotTree: string | null;
  /** The worktree folder is still there (pruned: the branch alone gives the diff). */
  worktreePresent: boolean;
  totals: DiffTotals;
  files: DiffFile[];
  /** Files changed but not listed (beyond maxFiles). */
  unlistedFiles: number;
  /** Something was left out: files, or hunks of files. */
  cut: boolean;
}

export type BranchDiff =
  | ReadyDiff
  | { state: "discarded"; record: WorktreeRecord; worktreePresent: boolean }
  | { state: "unavailable"; record: WorktreeRecord | null; reason: string };

const LIST_MAX_BYTES = 32 << 20;
const DIFF_FLAGS = ["--no-color", "--no-ext-diff", "--no-textconv", "-M", "-O/dev/null", "--src-prefix=a/", "--dst-prefix=b/"];

/** The tip of the branch, or null when it does not exist. */
export async function branchTip(repository: string, branch: string): Promise<string | null> {
  return gitText(repository, ["rev-parse", "--verify", "--quiet", "--end-of-options", `refs/heads/${branch}^{commit}`]);
}

/** Where the repository stands for reading: an error sentence, or null when it can be read. */
async function repositoryProblem(record: WorktreeRecord): Promise<string | null> {
  let dir = false;
  try {
    dir = statSync(record.repository).isDirectory();
  } catch {
    dir = false;
  }
  if (!dir) return `the repository ${record.repository} is not on this host (a worker on another machine ran the job, or it was moved)`;
  if ((await gitText(record.repository, ["rev-parse", "--git-dir"])) === null) return `${record.repository} is no longer a git repository`;
  return null;
}

/** The diff of the record's branch against its base commit, bounded by `limits`. */
export async function branchDiff(record: WorktreeRecord, limits: DiffLimits = PAGE_LIMITS): Promise<BranchDiff> {
  return diffAgainstBase(record, limits, null);
}

/**
 * The diff of the worktree folder as it is now (uncommitted work and new
 * files included, the `exclude` globs left out) against the base: what a
 * running agent has done so far. A folder that is gone gives the branch's.
 */
export async function worktreeDiff(record: WorktreeRecord, exclude: string[], limits: DiffLimits = PAGE_LIMITS): Promise<BranchDiff> {
  return diffAgainstBase(record, limits, { exclude });
}

async function diffAgainstBase(record: WorktreeRecord, limits: DiffLimits, live: { exclude: string[] } | null): Promise<BranchDiff> {
  const problem = await repositoryProblem(record);
  if (problem) return { state: "unavailable", record, reason: problem };
  const worktreePresent = existsSync(record.path);
  const tip = await branchTip(record.repository, record.branch);
  if (tip === null) return { state: "discarded", record, worktreePresent };
  if ((await gitText(record.repository, ["cat-file", "-e", `${record.baseCommit}^{commit}`])) === null) {
    return { state: "unavailable", record, reason: `the base commit ${record.baseCommit} is not in ${record.repository}` };
  }
  const snapshot = live && worktreePresent ? await worktreeSnapshot(record.path, live.exclude) : null;
  const range = [record.baseCommit, snapshot ?? tip];
  const list = await gitRead(record.repository, ["diff", "-z", "--raw", "--numstat", ...DIFF_FLAGS, ...range], { maxBytes: LIST_MAX_BYTES });
  if (list.code !== 0 && !list.truncated) return { state: "unavailable", record, reason: gitFailure("listing the changed files", list) };
  const entries = parseRawNumstat(list.stdout);
  const totals = list.truncated ? await shortstat(record.repository, range) : sum(entries);
  const listed = entries.slice(0, limits.maxFiles);
  const patch = await gitRead(record.repository, ["diff", "-p", ...DIFF_FLAGS, ...range], { maxBytes: limits.maxTotalBytes });
  if (patch.code !== 0 && !patch.truncated) return { state: "unavailable", record, reason: gitFailure("reading the patch", patch) };
  const files = matchSections(listed, new TextDecoder().decode(patch.stdout), patch.truncated, limits.maxFileBytes);
  const unlistedFiles = Math.max(0, totals.files - listed.length);
  return {
    state: "ready", record, tipCommit: tip, snapshotTree: snapshot, worktreePresent, totals, files, unlistedFiles,
    cut: unlistedFiles > 0 || files.some((f) => f.cut !== null),
  };
}

/**
 * Gives each file its patch section(s): in git's order, matched by their
 * `diff --git` line (a type change prints two sections for one file). The
 * last section of a cut read is incomplete: its file counts as cut too.
 */
function matchSections(entries: FileEntry[], text: string, truncated: boolean, maxFileBytes: number): DiffFile[] {
  const sections = splitPatch(text);
  let s = 0;
  return entries.map((entry): DiffFile => {
    const header = sectionHeader(entry);
    const mine = [];
    while (s < sections.length && sections[s]!.header === header) mine.push(sections[s++]!);
    // Not reached before the total was used up, or reached only in part (the read stopped inside it).
    if (truncated && s === sections.length) return { ...entry, hunks: [], cut: "total-limit" };
    const size = mine.reduce((n, x) => n + x.size, 0);
    if (size > maxFileBytes) return { ...entry, hunks: [], cut: "file-too-large" };
    return { ...entry, hunks: mine.flatMap((x) => parseHunks(x.lines)), cut: null };
  });
}

function sum(entries: FileEntry[]): DiffTotals {
  return entries.reduce((t, e) => ({ files: t.files + 1, insertions: t.insertions + e.insertions, deletions: t.deletions + e.deletions }), { files: 0, insertions: 0, deletions: 0 });
}

/** Totals from `--shortstat`, for a file list too long to read whole. */
async function shortstat(repository: string, range: string[]): Promise<DiffTotals> {
  const line = (await gitText(repository, ["diff", "--shortstat", ...DIFF_FLAGS, ...range])) ?? "";
  const n = (re: RegExp) => Number(re.exec(line)?.[1] ?? 0);
  return { files: n(/(\d+) files? changed/), insertions: n(/(\d+) insertions?/), deletions: n(/(\d+) deletions?/) };
}

function gitFailure(what: string, r: { code: number | null; stderr: string; timedOut: boolean }): string {
  if (r.timedOut) return `git timed out ${what}`;
  return `git failed ${what} (exit ${r.code}): ${r.stderr.trim().split("\n")[0] ?? ""}`;
}

/**
 * The whole patch of the branch (with `live`: of the worktree folder now)
 * against its base, as git prints it with --binary (what `git apply`
 * takes), streamed: the raw download, unbounded. null when the branch is gone.
 */
export async function rawPatch(record: WorktreeRecord, live: { exclude: string[] } | null = null): Promise<ReadableStream<Uint8Array> | null> {
  if (await repositoryProblem(record)) return null;
  const tip = await branchTip(record.repository, record.branch);
  if (tip === null) return null;
  const snapshot = live && existsSync(record.path) ? await worktreeSnapshot(record.path, live.exclude) : null;
  return gitStream(record.repository, ["diff", "-p", "--binary", ...DIFF_FLAGS, record.baseCommit, snapshot ?? tip]).stream;
}

/** The commands a person runs to take the branch: never run by claude-jobs. */
export function mergeCommands(record: { repository: string; branch: string }): { merge: string; push: string } {
  const repo = shellWord(record.repository);
  return { merge: `git -C ${repo} merge ${shellWord(record.branch)}`, push: `git -C ${repo} push origin ${shellWord(record.branch)}` };
}

/** A word a POSIX shell reads back as exactly `s`: as is when plainly safe, else in single quotes. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
