// Retention: jobs that ended long ago are deleted, with what they left on
// this host (their Claude log files, their worktree folder). Finished and
// cancelled jobs go 14 days after they ended, failed ones after 30 (both
// configurable, 0/off keeps them). Every worker runs it as a maintenance
// task, and `claude-jobs cleanup` on demand; one cleaner at a time deletes
// (a transaction-level advisory lock; another cleaner skips its run instead
// of waiting), in short batches oldest first, so a million old jobs never
// hold a long transaction or many row locks that workers wait on. Each batch
// is one statement, its own transaction, never a transaction block: on the
// worker's connections postgres.js 3.4.9 throws from a timer when a
// transaction's connection is lost (src/db/session.ts).
// Counts stay exact: the delete triggers of claude_jobs adjust them in the
// same statement. Files are only removed where they are: the host that ran
// the job; what exists here is removed, the rest is not this host's to see.
// A worktree's folder goes (git's entry with it) and its branch stays: the
// branch is the work, and follow-ups recreate the folder from it.

import { existsSync } from "node:fs";
import { readdir, stat, unlink } from "node:fs/promises";
import { basename, dirname, isAbsolute, join } from "node:path";
import type { Sql } from "../db/connect.ts";
import {
  retentionCount, retentionDelete, retentionExisting, retentionFiles, retentionWorktreesInUse,
  type JobLeftovers, type RetentionCutoffs,
} from "../db/retention.ts";
import { readWorktreeRecord, type WorktreeRecord } from "../git/diff.ts";
import { removeWorktree } from "../git/worktree.ts";
import { parseDuration } from "../duration.ts";
import { InputError } from "../errors.ts";
import type { MaintenanceTask } from "./maintenance.ts";

const DAY_MS = 86_400_000;

export interface RetentionPolicy {
  /** How long finished and cancelled jobs are kept after they ended; null: forever. */
  finishedMs: number | null;
  /** How long failed jobs are kept after they ended; null: forever. */
  failedMs: number | null;
}

export const DEFAULT_RETENTION: RetentionPolicy = { finishedMs: 14 * DAY_MS, failedMs: 30 * DAY_MS };

/**
 * Rows per batch. Each batch is one short transaction (about 40 ms for 1,000
 * jobs here, see bench W7); smaller batches cost more round trips, larger
 * ones hold more row locks and a longer commit for workers to queue behind.
 */
export const DEFAULT_BATCH_SIZE = 1000;
/**
 * The rest between batches. Measured (bench W7, 2 cores, 1M jobs, a worker
 * draining beside it): with none, 28,000 deleted/s but the worker's drain fell
 * from 1,900 to 860 jobs/s and its p50 latency rose from 4 to 11 ms; with 20
 * ms, 20,000/s (1M in 50 s) and the drain and latency as without deletion.
 */
export const DEFAULT_PAUSE_MS = 20;
/** How often every worker tries; the lock makes all but one skip at once. */
export const RETENTION_EVERY_MS = 10 * 60_000;

/** A retention flag: a duration (14d, 36h, 90m), or 0 / off to keep forever. */
export function parseRetention(field: string, text: string): number | null {
  const value = text.trim().toLowerCase();
  if (value === "0" || value === "off") return null;
  try {
    return parseDuration(field, value, { min: 1000 });
  } catch (e: unknown) {
    if (!(e instanceof InputError)) throw e;
    throw new InputError(field, `must be a duration like 14d, 36h or 90m (at least 1s), or 0 or off to keep these jobs forever; got ${JSON.stringify(text)}`);
  }
}

export function cutoffs(policy: RetentionPolicy, now: Date): RetentionCutoffs {
  const before = (ms: number | null) => (ms === null ? null : new Date(now.getTime() - ms));
  return { finishedBefore: before(policy.finishedMs), failedBefore: before(policy.failedMs) };
}

export interface CleanupOptions {
  policy: RetentionPolicy;
  /** The clock's now: jobs that ended more than the retention before it go. */
  now: Date;
  /** This host's Claude log folder: earlier attempts' logs are found there by job id. */
  logDir?: string;
  batchSize?: number;
  /** A rest between batches, leaving PostgreSQL to the workers' claims for a while. Default DEFAULT_PAUSE_MS. */
  pauseMs?: number;
  /** Stops between batches (a worker shutting down). */
  signal?: AbortSignal;
  /** Deletes nothing; counts what would go. */
  dryRun?: boolean;
  /**
   * Also removes the log files in `logDir` whose job is not in this database
   * (see sweepOrphans). Off unless asked: a log folder shared by two
   * databases (one user's embedded and server databases share the default
   * folder) would otherwise lose the other database's logs.
   */
  sweepOrphans?: boolean;
}

type Counts = { finished: number; failed: number; cancelled: number };

export interface CleanupReport {
  dryRun: boolean;
  finishedBefore: Date | null;
  failedBefore: Date | null;
  /** Jobs deleted (or, dry, that would be), by status. */
  deleted: Counts;
  total: number;
  /** The same, by queue. */
  queues: Record<string, Counts>;
  batches: number;
  /** Log files of the jobs deleted by this run removed from this host (or, dry, that exist here and would be). */
  filesRemoved: number;
  /**
   * With `sweepOrphans`: log files in this host's log folder whose job is
   * gone (deleted by a cleaner on another host, or by `delete`), from
   * attempts that started longer ago than the shorter retention period:
   * removed (or, dry, counted).
   */
  orphanFilesRemoved: number;
  /** Worktree folders of the deleted jobs removed from this host (or, dry, that would be); their branches stay. */
  worktreesRemoved: number;
  /** What could not be removed (a worktree git refused), at most 10 lines; the jobs are deleted all the same. */
  problems: string[];
  /** Another cleaner held the lock: this run stopped there (what it deleted before is counted). */
  busy: boolean;
  /** The signal stopped the run between batches. */
  stopped: boolean;
}

/** Runs a query on a connection: the worker's bounded one (WorkerDb.run), or a plain pool. */
export type QueryRunner = <T>(query: (sql: Sql) => Promise<T>) => Promise<T>;

/** Deletes (or counts, dry) the jobs past their retention and their files on this host. */
export async function cleanup(run: QueryRunner, options: CleanupOptions): Promise<CleanupReport> {
  const limits = cutoffs(options.policy, options.now);
  const report: CleanupReport = {
    dryRun: options.dryRun === true, ...limits, deleted: { finished: 0, failed: 0, cancelled: 0 }, total: 0, queues: {},
    batches: 0, filesRemoved: 0, orphanFilesRemoved: 0, worktreesRemoved: 0, problems: [], busy: false, stopped: false,
  };
  if (limits.finishedBefore === null && limits.failedBefore === null) return report;
  const files = new LocalLogs(options.logDir);
  const add = (queue: string, status: string, n: number) => {
    if (status !== "finished" && status !== "failed" && status !== "cancelled") return;
    report.deleted[status] += n;
    report.total += n;
    (report.queues[queue] ??= { finished: 0, failed: 0, cancelled: 0 })[status] += n;
  };
  if (options.dryRun) {
    for (const c of await run((sql) => retentionCount(sql, limits))) add(c.queue, c.status, c.n);
    await run(async (sql) => {
      for await (const jobs of retentionFiles(sql, limits)) {
        report.filesRemoved += await files.remove(jobs, true);
        report.worktreesRemoved += await removeWorktrees(run, jobs, true, report.problems);
      }
    });
    report.orphanFilesRemoved = await sweepOrphans(run, options, true);
    return report;
  }
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  let after: Date | null = null;
  for (;;) {
    if (options.signal?.aborted) {
      report.stopped = true;
      break;
    }
    const deleted = await run((sql) => retentionDelete(sql, limits, after, batchSize));
    if (deleted === null) {
      report.busy = true;
      break;
    }
    if (deleted.length > 0) report.batches += 1;
    for (const job of deleted) {
      add(job.queue, job.status, 1);
      if (after === null || job.finishedAt > after) after = job.finishedAt;
    }
    // After the commit: a file is never gone while its job is still there.
    report.filesRemoved += await files.remove(deleted, false);
    report.worktreesRemoved += await removeWorktrees(run, deleted, false, report.problems);
    if (deleted.length < batchSize) break;
    const pause = options.pauseMs ?? DEFAULT_PAUSE_MS;
    if (pause > 0) await Bun.sleep(pause);
  }
  if (!options.signal?.aborted) report.orphanFilesRemoved = await sweepOrphans(run, options, false);
  return report;
}

/** A log file's name: the job id and the attempt's start (UTC, to the second). */
const LOG_STAMPED = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})\.(?:stdout|stderr)\.log$/;
const ORPHAN_CHUNK = 1000;

/**
 * Removes the log files in this host's log folder whose job no longer
 * exists, when their attempt started longer ago than the shorter retention
 * period: a job is deleted once, by whichever cleaner got there, but each
 * host keeps its own logs, so each host removes its own leftovers. The
 * attempt's start comes from the file name, so no file is stat'ed. Only for
 * a log folder that holds this database's logs alone: nothing in a file
 * says which database its job was in.
 */
async function sweepOrphans(run: QueryRunner, options: CleanupOptions, dryRun: boolean): Promise<number> {
  const periods = [options.policy.finishedMs, options.policy.failedMs].filter((p): p is number => p !== null);
  if (!options.sweepOrphans || !options.logDir || periods.length === 0) return 0;
  const before = options.now.getTime() - Math.min(...periods);
  let names: string[];
  try {
    names = await readdir(options.logDir);
  } catch {
    return 0; // no log folder on this host
  }
  const byId = new Map<string, string[]>();
  for (const name of names) {
    const m = LOG_STAMPED.exec(name);
    if (!m || Date.UTC(+m[2]!, +m[3]! - 1, +m[4]!, +m[5]!, +m[6]!, +m[7]!) >= before) continue;
    byId.set(m[1]!, [...(byId.get(m[1]!) ?? []), name]);
  }
  const ids = [...byId.keys()];
  let n = 0;
  for (let i = 0; i < ids.length; i += ORPHAN_CHUNK) {
    const chunk = ids.slice(i, i + ORPHAN_CHUNK);
    const alive = await run((sql) => retentionExisting(sql, chunk));
    for (const id of chunk) {
      if (alive.has(id)) continue;
      for (const name of byId.get(id)!) if (await (dryRun ? exists : removed)(join(options.logDir, name))) n += 1;
    }
  }
  return n;
}

/**
 * Removes the worktree folders (and git's entries for them) of deleted
 * Claude jobs that exist on this host, keeping the branches. A worktree that
 * a live job still uses (a follow-up sharing it, waiting, queued or running)
 * stays. removeWorktree (src/git/worktree.ts) deletes a folder only when git
 * lists it as a worktree of that repository, or it is one: a result naming
 * another folder removes nothing.
 */
async function removeWorktrees(run: QueryRunner, jobs: JobLeftovers[], dryRun: boolean, problems: string[]): Promise<number> {
  const here = new Map<string, WorktreeRecord>();
  for (const job of jobs) {
    if (job.kind !== "claude" || job.worktree === null) continue;
    const check = readWorktreeRecord({ worktree: job.worktree });
    if (check?.ok && existsSync(check.record.path)) here.set(check.record.rootJobId, check.record);
  }
  if (here.size === 0) return 0;
  const inUse = await run((sql) => retentionWorktreesInUse(sql, [...here.keys()]));
  let n = 0;
  for (const [root, worktree] of here) {
    if (inUse.has(root)) continue;
    if (dryRun) {
      n += 1;
      continue;
    }
    try {
      if ((await removeWorktree(worktree, { deleteBranch: false })).removedPath) n += 1;
    } catch (e: unknown) {
      if (problems.length < 10) problems.push(`worktree ${worktree.path} of job ${root}: ${(e as Error)?.message ?? String(e)}`);
    }
  }
  return n;
}

/** `{job-id}-{YYYYMMDD-HHMMSS}.{stdout|stderr}.log`: the layout of src/handlers/claude/logs.ts. */
const LOG_NAME = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-\d{8}-\d{6}\.(?:stdout|stderr)\.log$/;

/**
 * A job's log files on this host: the two its result names (its last
 * attempt), and every file of an earlier attempt in the same folder or the
 * configured one, found by its name. Only files named as claude-jobs names
 * them, for that job's id, are ever removed: a result is a handler's output,
 * and a path in it must not send us deleting anything else.
 */
class LocalLogs {
  /** Folder -> job id -> file names; each folder is read once per run. */
  private readonly folders = new Map<string, Promise<Map<string, string[]>>>();

  constructor(private readonly logDir?: string) {}

  /** Removes (or, dry, counts) the jobs' log files that exist here; returns how many. */
  async remove(jobs: JobLeftovers[], dryRun: boolean): Promise<number> {
    let n = 0;
    for (const job of jobs) {
      const id = job.id.toLowerCase();
      const paths = new Set<string>();
      const folders = new Set<string>(this.logDir ? [this.logDir] : []);
      for (const p of [job.stdoutLog, job.stderrLog]) {
        if (typeof p !== "string" || !isAbsolute(p) || LOG_NAME.exec(basename(p))?.[1] !== id) continue;
        paths.add(p);
        folders.add(dirname(p));
      }
      if (paths.size === 0 && !this.logDir) continue;
      for (const folder of folders) for (const name of (await this.index(folder)).get(id) ?? []) paths.add(join(folder, name));
      for (const p of paths) if (await (dryRun ? exists(p) : removed(p))) n += 1;
    }
    return n;
  }

  private index(folder: string): Promise<Map<string, string[]>> {
    let index = this.folders.get(folder);
    if (!index) {
      index = readdir(folder).then((names) => {
        const byId = new Map<string, string[]>();
        for (const name of names) {
          const id = LOG_NAME.exec(name)?.[1];
          if (id) byId.set(id, [...(byId.get(id) ?? []), name]);
        }
        return byId;
      }, () => new Map<string, string[]>()); // no such folder here: nothing of it to remove
      this.folders.set(folder, index);
    }
    return index;
  }
}

const exists = (path: string) => stat(path).then((s) => s.isFile(), () => false);
const removed = (path: string) => unlink(path).then(() => true, (e: NodeJS.ErrnoException) => {
  if (e.code === "ENOENT") return false;
  throw e;
});

export interface RetentionTaskOptions {
  policy?: RetentionPolicy;
  logDir?: string;
  everyMs?: number;
  batchSize?: number;
  /**
   * Also run when the worker starts (default false: first after `everyMs`).
   * Nothing in retention is urgent, and a fleet restarted by a deploy would
   * otherwise have every worker try it in the same second; and a worker's
   * first seconds are its own (the lock, the rescue, the first claims):
   * a query more then opens one more connection of its pool for nothing.
   */
  runAtStart?: boolean;
}

/** The maintenance task every worker runs (src/worker/maintenance.ts builtinMaintenance). */
export function retentionTask(options: RetentionTaskOptions = {}): MaintenanceTask {
  const policy = options.policy ?? DEFAULT_RETENTION;
  // The runner runs every task once at start: that first call is the start.
  let skipStart = options.runAtStart !== true;
  return {
    name: "retention",
    everyMs: options.everyMs ?? RETENTION_EVERY_MS,
    run: async (ctx) => {
      if (skipStart) {
        skipStart = false;
        return;
      }
      const report = await cleanup((query) => ctx.db.run(query), {
        policy, now: ctx.now(), logDir: options.logDir, batchSize: options.batchSize, signal: ctx.signal,
      });
      if (report.total > 0 || report.filesRemoved > 0 || report.orphanFilesRemoved > 0 || report.worktreesRemoved > 0) ctx.emit("maintenance:retention", report);
    },
  };
}
