/** @jsxImportSource @kitajs/html */
// The dashboard's side of reviewing a worktree job: what the job page shows
// (its changes, its chain, whether Discard and Follow-up are offered), the
// raw patch download, and the Discard and Follow-up actions for forms,
// htmx and the API. The routes in pages.tsx, actions.tsx and api.ts call
// these; the views are views/diff.tsx and views/chain.tsx.

import { t } from "elysia";
import type { AppDeps } from "./app.tsx";
import type { JobRecord } from "../handlers/types.ts";
import { NotFoundError } from "../errors.ts";
import { branchDiff, rawPatch, PAGE_LIMITS } from "../git/diff.ts";
import { jobWorktree } from "../review/worktree-of.ts";
import { jobChain, type Chain } from "../review/chain.ts";
import { discardWorktree, type DiscardResult } from "../review/discard.ts";
import { enqueueFollowUp } from "../review/follow-up.ts";
import { ChangesSection, type ChangesState } from "./views/diff.tsx";
import { ChainSection } from "./views/chain.tsx";

export interface Review {
  changes: ChangesState;
  chain: Chain | null;
  discardBlocked: string | null;
  followUpBlocked: string | null;
}

const LIVE = new Set(["waiting", "queued", "running"]);

/** What the job page shows of a worktree job; null for any other job. */
export async function reviewOf(deps: AppDeps, job: JobRecord): Promise<Review | null> {
  const worktree = jobWorktree(job);
  if (worktree.kind === "none") return null;
  const [changes, chain] = await Promise.all([changesOf(job), jobChain(deps.sql, job)]);
  const live = chain?.jobs.find((j) => j.id !== job.id && LIVE.has(j.status));
  const discardBlocked = job.status === "running" ? "Not while the job runs: cancel it first, or wait for it to end."
    : LIVE.has(job.status) ? `Not while the job is ${job.status}: cancel it first.`
    : live ? `Not while job ${live.id} on this branch is ${live.status}.` : null;
  const session = job.result?.sessionId;
  const followUpBlocked = typeof session === "string" && session !== "" ? null
    : `A follow-up resumes this job's Claude session, and it has none yet (it is ${job.status}).`;
  return { changes, chain, discardBlocked, followUpBlocked };
}

async function changesOf(job: JobRecord): Promise<ChangesState> {
  const w = jobWorktree(job);
  if (w.kind === "recorded") return branchDiff(w.record, PAGE_LIMITS);
  if (w.kind === "malformed") return { state: "malformed", message: `The job's worktree record does not read (${w.field}).` };
  return {
    state: "waiting",
    message: job.status === "running" || job.status === "queued" || job.status === "waiting"
      ? "The changes show here once the run has made its worktree."
      : `This job recorded no worktree (it is ${job.status}).`,
  };
}

/** GET /jobs/:id/patch: the whole patch as text, for reading or `git apply`. */
export async function patchResponse(job: JobRecord): Promise<Response> {
  const w = jobWorktree(job);
  const stream = w.kind === "recorded" ? await rawPatch(w.record) : null;
  if (!stream) throw new NotFoundError(`job ${job.id} has no patch: no worktree branch of it is in a repository on this host`);
  return new Response(stream, {
    headers: {
      "content-type": "text/plain; charset=utf-8",
      "x-content-type-options": "nosniff",
      "content-disposition": `inline; filename="claude-jobs-${job.id}.patch"`,
      "content-security-policy": "default-src 'none'; sandbox",
    },
  });
}

const isHtmx = (request: Request) => request.headers.get("hx-request") === "true";
const redirect = (location: string) => new Response(null, { status: 303, headers: { location } });

/** POST /jobs/:id/discard: htmx gets the Changes section again, a form a redirect back. */
export async function discardAction(deps: AppDeps, id: string, request: Request): Promise<Response | JSX.Element> {
  const job = await deps.queue.get(id);
  const result: DiscardResult = await discardWorktree(deps.sql, job);
  if (!isHtmx(request)) return redirect(`/jobs/${job.id}?done=discarded`);
  const review = await reviewOf(deps, job);
  return <ChangesSection job={job} changes={review!.changes} discardBlocked={review!.discardBlocked} discarded={result} />;
}

/** POST /jobs/:id/follow-up: htmx gets the chain section again (naming the new job), a form the new job's page. */
export async function followUpAction(deps: AppDeps, id: string, prompt: unknown, request: Request): Promise<Response | JSX.Element> {
  const newId = await enqueueFollowUp(deps.queue, id, prompt);
  if (!isHtmx(request)) return redirect(`/jobs/${newId}?done=follow-up`);
  const job = await deps.queue.get(id);
  const review = await reviewOf(deps, job);
  return <ChainSection job={job} chain={review!.chain!} followUpBlocked={review!.followUpBlocked} enqueued={newId} />;
}

/** GET /api/jobs/:id/diff: the diff as JSON, bounded as on the page. */
export async function diffJson(deps: AppDeps, id: string): Promise<Record<string, unknown>> {
  const job = await deps.queue.get(id);
  const w = jobWorktree(job);
  if (w.kind === "none") return { state: "none", message: `job ${job.id} did not run in a worktree` };
  return { ...(await changesOf(job)), patchUrl: `/jobs/${job.id}/patch` };
}

/** The body of POST /api/jobs/:id/follow-up. */
export const FollowUpBody = t.Object({
  prompt: t.String({ minLength: 1, maxLength: 200_000, description: "what Claude should do next on the branch", error: "prompt: must be a string of 1-200000 characters" }),
}, { additionalProperties: false, error: "body: must be a JSON object with the field prompt" });
