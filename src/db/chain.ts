// Typed wrappers around sql/queries/chain_*.sql: the jobs of one worktree
// chain (a root job and its follow-ups), for the job page and for discard.

import type { Queryable } from "./connect.ts";
import type { JobStatus } from "../handlers/types.ts";
import chainJobs from "../../sql/queries/chain_jobs.sql" with { type: "text" };
import chainParents from "../../sql/queries/chain_parents.sql" with { type: "text" };

export interface ChainJob {
  id: string;
  status: JobStatus;
  runAt: Date;
  createdAt: Date;
  finishedAt: Date | null;
  /** The prompt's first 300 characters. */
  prompt: string | null;
  /** The job it follows up, as its payload says (a job id, unchecked data). */
  followUpOf: string | null;
  /** The jobs it waits for. */
  parents: string[];
}

/** Most jobs a chain lists. */
export const CHAIN_LIMIT = 200;

export async function chainJobList(sql: Queryable, rootId: string, limit = CHAIN_LIMIT): Promise<ChainJob[]> {
  const rows = (await sql.unsafe(chainJobs, [rootId, limit], { prepare: true })) as unknown as Record<string, unknown>[];
  return rows.map((r) => ({
    id: r.id as string,
    status: r.status as JobStatus,
    runAt: r.run_at as Date,
    createdAt: r.created_at as Date,
    finishedAt: (r.finished_at as Date | null) ?? null,
    prompt: (r.prompt as string | null) ?? null,
    followUpOf: (r.follow_up_of as string | null) ?? null,
    parents: (r.parents as string[] | null) ?? [],
  }));
}

export async function chainParentIds(sql: Queryable, jobId: string): Promise<string[]> {
  const rows = (await sql.unsafe(chainParents, [jobId], { prepare: true })) as unknown as { parent_id: string }[];
  return rows.map((r) => r.parent_id);
}
