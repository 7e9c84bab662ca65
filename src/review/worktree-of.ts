// Which worktree a job works in, from what the job says: its result's
// worktree record (written by the Claude handler when the worktree exists),
// else its payload (worktree: true, worktree_of) before anything is
// recorded. The root job is the one that created the worktree; its
// follow-ups share it.

import type { JobRecord } from "../handlers/types.ts";
import { readWorktreeRecord, type WorktreeRecord } from "../git/diff.ts";

export type JobWorktree =
  | { kind: "recorded"; rootJobId: string; record: WorktreeRecord }
  /** The result's record is not of the expected shape (the field at fault). */
  | { kind: "malformed"; rootJobId: string; field: string }
  /** A worktree job with nothing recorded yet (queued, or the run has not made it). */
  | { kind: "pending"; rootJobId: string }
  | { kind: "none" };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The root job a worktree job's payload names: worktree_of, else the job itself. */
function payloadRoot(job: JobRecord): string {
  const of = job.payload.worktree_of;
  return typeof of === "string" && UUID.test(of) ? of.toLowerCase() : job.id;
}

export function jobWorktree(job: JobRecord): JobWorktree {
  if (job.kind !== "claude") return { kind: "none" };
  const check = readWorktreeRecord(job.result);
  if (check?.ok) return { kind: "recorded", rootJobId: check.record.rootJobId, record: check.record };
  if (check && !check.ok) return { kind: "malformed", rootJobId: payloadRoot(job), field: check.field };
  if (job.payload.worktree === true) return { kind: "pending", rootJobId: payloadRoot(job) };
  return { kind: "none" };
}
