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
import { removeWorktree, worktreeFor } from "../git/worktree.ts";
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

/** What to remove for a job: its recorded worktree, else where the default layout puts the root's. */
function target(job: JobRecord): { rootJobId: string; repository: string; path: string; branch: string } {
  const worktree = jobWorktree(job);
  if (worktree.kind === "none") throw new ConflictError(`job ${job.id} did not run in a worktree; there is nothing to discard`);
  if (worktree.kind === "recorded") {
    const { repository, path, branch } = worktree.record;
    return { rootJobId: worktree.rootJobId, repository, path, branch };
  }
  // Nothing (or nothing readable) recorded: the folder and branch the engine derives from the root job.
  const cwd = typeof job.payload.cwd === "string" ? job.payload.cwd : "";
  const info = cwd ? repoInfoSync(cwd) : { why: "the job has no cwd" };
  if ("why" in info) throw new ConflictError(`job ${job.id} recorded no worktree, and its cwd ${JSON.stringify(cwd)} is in no repository on this host (${info.why})`);
  return { rootJobId: worktree.rootJobId, repository: info.topLevel, ...worktreeFor(info.topLevel, worktree.rootJobId) };
}

export async function discardWorktree(sql: Queryable, job: JobRecord): Promise<DiscardResult> {
  if (job.status === "running") {
    throw new ConflictError(`job ${job.id} is running in its worktree; cancel it first (claude-jobs cancel ${job.id}), or wait for it to end`);
  }
  const t = target(job);
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
