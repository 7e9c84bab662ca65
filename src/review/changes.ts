// What a job changed, as the job page, the API and `claude-jobs diff` show
// it: for a running job its worktree folder as it is now (the work so far,
// uncommitted included, copied files left out), for any other its branch
// against its base; or the sentence that says why there is nothing to show.

import type { JobRecord } from "../handlers/types.ts";
import { branchDiff, rawPatch, worktreeDiff, type BranchDiff, type DiffLimits } from "../git/diff.ts";
import { jobWorktree } from "./worktree-of.ts";

export type JobChanges =
  | BranchDiff
  /** Not a worktree job, one with nothing recorded yet, or a record that does not read: the sentence to show. */
  | { state: "none" | "waiting" | "malformed"; message: string };

/** A running job's live view leaves out what was copied in from the user's checkout. */
function live(job: JobRecord): { exclude: string[] } | null {
  if (job.status !== "running") return null;
  const copy = job.payload.copy;
  return { exclude: Array.isArray(copy) ? copy.filter((g): g is string => typeof g === "string") : [] };
}

export async function jobChanges(job: JobRecord, limits?: DiffLimits): Promise<JobChanges> {
  const w = jobWorktree(job);
  if (w.kind === "none") return { state: "none", message: `job ${job.id} did not run in a worktree (enqueue --worktree): there is no branch to diff` };
  if (w.kind === "malformed") return { state: "malformed", message: `The job's worktree record does not read (${w.field}).` };
  if (w.kind === "pending") {
    const live = job.status === "running" || job.status === "queued" || job.status === "waiting";
    return { state: "waiting", message: live ? "The changes show here once the run has made its worktree." : `This job recorded no worktree (it is ${job.status}).` };
  }
  const l = live(job);
  return l ? worktreeDiff(w.record, l.exclude, limits) : branchDiff(w.record, limits);
}

/** The whole patch of what jobChanges shows; null when there is none (no worktree, branch gone, repository not here). */
export async function jobPatch(job: JobRecord): Promise<ReadableStream<Uint8Array> | null> {
  const w = jobWorktree(job);
  return w.kind === "recorded" ? rawPatch(w.record, live(job)) : null;
}
