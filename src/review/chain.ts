// A job's chain: the root job that made its worktree, the job it follows
// up, the jobs that follow it up, and every job on the branch in order. The
// parent is the job the payload's follow_up_of names, else the one it waits
// for; follow-ups are the jobs that name this one so.

import type { Queryable } from "../db/connect.ts";
import type { JobRecord } from "../handlers/types.ts";
import { chainJobList, chainParentIds, CHAIN_LIMIT, type ChainJob } from "../db/chain.ts";
import { jobWorktree } from "./worktree-of.ts";

export interface Chain {
  rootId: string;
  jobId: string;
  parentId: string | null;
  /** The jobs that follow this one up directly. */
  followUpIds: string[];
  /** Every job on the branch, the root first (at most CHAIN_LIMIT). */
  jobs: ChainJob[];
  truncated: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The job it follows up, from its own payload (follow_up_of) or its dependencies. */
export function parentOf(followUpOf: string | null, parents: string[]): string | null {
  if (followUpOf !== null && UUID.test(followUpOf)) return followUpOf.toLowerCase();
  return parents[0] ?? null;
}

/** null for a job with no worktree. */
export async function jobChain(sql: Queryable, job: JobRecord): Promise<Chain | null> {
  const worktree = jobWorktree(job);
  if (worktree.kind === "none") return null;
  const rootId = worktree.rootJobId;
  const jobs = await chainJobList(sql, rootId, CHAIN_LIMIT + 1);
  const truncated = jobs.length > CHAIN_LIMIT;
  if (truncated) jobs.length = CHAIN_LIMIT;
  const own = jobs.find((j) => j.id === job.id);
  const followUpOf = typeof job.payload.follow_up_of === "string" ? job.payload.follow_up_of : null;
  const parentId = job.id === rootId ? null : parentOf(followUpOf, own?.parents ?? (await chainParentIds(sql, job.id)));
  const followUpIds = jobs.filter((j) => j.id !== job.id && parentOf(j.followUpOf, j.parents) === job.id).map((j) => j.id);
  return { rootId, jobId: job.id, parentId, followUpIds, jobs, truncated };
}
