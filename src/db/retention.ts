// Typed wrappers around sql/queries/retention_*.sql: deleting jobs past
// their retention in short batches under a transaction-level advisory lock,
// and counting what would go (dry runs).

import type { Queryable, Sql } from "./connect.ts";
import type { JobStatus } from "../handlers/types.ts";
import deleteBatch from "../../sql/queries/retention_delete.sql" with { type: "text" };
import count from "../../sql/queries/retention_count.sql" with { type: "text" };
import files from "../../sql/queries/retention_files.sql" with { type: "text" };
import existing from "../../sql/queries/retention_existing.sql" with { type: "text" };
import worktreesInUse from "../../sql/queries/retention_worktrees_in_use.sql" with { type: "text" };

export interface RetentionCutoffs {
  /** Finished and cancelled jobs that ended before this go; null keeps them. */
  finishedBefore: Date | null;
  /** Failed jobs that ended before this go; null keeps them. */
  failedBefore: Date | null;
}

/** What a deleted job may have left on a host: its log files (named in its result) and its worktree. */
export interface JobLeftovers {
  id: string;
  kind: string;
  stdoutLog: string | null;
  stderrLog: string | null;
  worktree: Record<string, unknown> | null;
}

export interface DeletedJob extends JobLeftovers {
  queue: string;
  status: JobStatus;
  finishedAt: Date;
}

type Row = Record<string, unknown>;

async function run(sql: Queryable, text: string, params: unknown[]): Promise<Row[]> {
  return (await sql.unsafe(text, params as never[], { prepare: true })) as unknown as Row[];
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function leftovers(r: Row): JobLeftovers {
  const worktree = r.worktree;
  return {
    id: r.id as string,
    kind: r.kind as string,
    stdoutLog: (r.stdout_log as string | null) ?? null,
    stderrLog: (r.stderr_log as string | null) ?? null,
    worktree: worktree !== null && typeof worktree === "object" && !Array.isArray(worktree) ? (worktree as Record<string, unknown>) : null,
  };
}

/**
 * Deletes one batch, oldest first, from `after` on (the newest finished_at of
 * the previous batch), under the cleaner's lock; null when another cleaner
 * holds the lock (nothing was read or deleted).
 */
export async function retentionDelete(sql: Queryable, cutoffs: RetentionCutoffs, after: Date | null, limit: number): Promise<DeletedJob[] | null> {
  const rows = await run(sql, deleteBatch, [iso(cutoffs.finishedBefore), iso(cutoffs.failedBefore), iso(after), limit]);
  if (rows[0]?.locked !== true) return null;
  return rows.filter((r) => r.id !== null).map((r) => ({
    ...leftovers(r), queue: r.queue as string, status: r.status as JobStatus, finishedAt: r.finished_at as Date,
  }));
}

export interface RetentionCount {
  queue: string;
  status: JobStatus;
  n: number;
}

export async function retentionCount(sql: Queryable, cutoffs: RetentionCutoffs): Promise<RetentionCount[]> {
  return (await run(sql, count, [iso(cutoffs.finishedBefore), iso(cutoffs.failedBefore)])).map((r) => ({
    queue: r.queue as string, status: r.status as JobStatus, n: r.n as number,
  }));
}

/** The leftovers of the jobs that would be deleted, `batch` rows at a time through a cursor. */
export async function* retentionFiles(sql: Sql, cutoffs: RetentionCutoffs, batch = 1000): AsyncGenerator<JobLeftovers[]> {
  const cursor = sql.unsafe(files, [iso(cutoffs.finishedBefore), iso(cutoffs.failedBefore)] as never[]).cursor(batch);
  for await (const rows of cursor) yield (rows as unknown as Row[]).map(leftovers);
}

/** The ids among `ids` that are still jobs. */
export async function retentionExisting(sql: Queryable, ids: string[]): Promise<Set<string>> {
  return new Set((await run(sql, existing, [ids])).map((r) => r.id as string));
}

/** The worktrees (by root job id) that a waiting, queued or running job still uses. */
export async function retentionWorktreesInUse(sql: Queryable, rootJobIds: string[]): Promise<Set<string>> {
  return new Set((await run(sql, worktreesInUse, [rootJobIds])).map((r) => r.root as string));
}
