// Discarding a job's work: its worktree folder, the repository's entry for
// it, and its branch, through the engine's removeWorktree. The worktree and
// branch belong to the whole chain (the root job and its follow-ups), so
// nothing is removed while a job of the chain is running or still to run.
// Idempotent: what is already gone is reported as not removed, not an error.

import { ConflictError } from "../errors.ts";
import type { Queryable } from "../db/connect.ts";
import type { JobRecord } from "../handlers/types.ts";
import { chainJobList, CHAIN_LIMIT } from "../db/chain.ts";
import { repoInfoSync } from "../git/repo.ts";
import { listWorktrees, removeWorktree, worktreeFor } from "../git/worktree.ts";
import { jobGet } from "../db/jobs.ts";
import { jobWorktree } from "./worktree-of.ts";

export interface DiscardResult {
  jobId: string;
  rootJobId: string;
  repository: string;
  path: string;
  branch: string;
  removedPath: boolean;
  deletedBranch: boolean;
}

const LIVE = new Set(["waiting", "queued", "running"]);

/**
 * What to remove for a job: its recorded worktree, else its root job's,
 * else the worktree git lists on the root's branch (a worker's own
 * --worktree-dir), else where the default layout puts it.
 */
async function target(sql: Queryable, job: JobRecord): Promise<Target> {
  const worktree = jobWorktree(job);
  if (worktree.kind === "none") throw new ConflictError(`job ${job.id} did not run in a worktree; there is nothing to discard`);
  if (worktree.kind === "recorded") return recorded(worktree.rootJobId, worktree.record);
  const root = worktree.rootJobId === job.id ? null : await jobGet(sql, worktree.rootJobId);
  const rootWorktree = root ? jobWorktree(root) : null;
  if (rootWorktree?.kind === "recorded") return recorded(worktree.rootJobId, rootWorktree.record);
  const cwd = typeof job.payload.cwd === "string" ? job.payload.cwd : "";
  const info = cwd ? repoInfoSync(cwd) : { why: "the job has no cwd" };
  if ("why" in info) throw new ConflictError(`job ${job.id} recorded no worktree, and its cwd ${JSON.stringify(cwd)} is in no repository on this host (${info.why})`);
  const derived = worktreeFor(info.topLevel, worktree.rootJobId);
  const listed = (await listWorktrees(info.topLevel)).find((e) => e.branch === `refs/heads/${derived.branch}`);
  return { rootJobId: worktree.rootJobId, repository: info.topLevel, branch: derived.branch, path: listed?.path ?? derived.path };
}

interface Target {
  rootJobId: string;
  repository: string;
  path: string;
  branch: string;
}

const recorded = (rootJobId: string, r: { repository: string; path: string; branch: string }): Target =>
  ({ rootJobId, repository: r.repository, path: r.path, branch: r.branch });

export async function discardWorktree(sql: Queryable, job: JobRecord): Promise<DiscardResult> {
  if (job.status === "running") {
    throw new ConflictError(`job ${job.id} is running in its worktree; cancel it first (claude-jobs cancel ${job.id}), or wait for it to end`);
  }
  const t = await target(sql, job);
  const live = (await chainJobList(sql, t.rootJobId, CHAIN_LIMIT)).find((j) => j.id !== job.id && LIVE.has(j.status));
  if (live) {
    throw new ConflictError(`job ${live.id}, on the same branch, is ${live.status}; cancel it first (claude-jobs cancel ${live.id}), or wait for it to end`);
  }
  if (LIVE.has(job.status)) {
    throw new ConflictError(`job ${job.id} is ${job.status}: it would work in the worktree; cancel it first (claude-jobs cancel ${job.id})`);
  }
  const removed = await removeWorktree(t, { deleteBranch: true });
  return { jobId: job.id, ...t, ...removed };
}
