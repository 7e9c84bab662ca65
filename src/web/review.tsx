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
import { PAGE_LIMITS } from "../git/diff.ts";
import { jobChanges, jobPatch } from "../review/changes.ts";
import { jobWorktree } from "../review/worktree-of.ts";
import { jobChain, type Chain } from "../review/chain.ts";
import { discardWorktree, type DiscardResult } from "../review/discard.ts";
import { enqueueFollowUp } from "../review/follow-up.ts";
import { ChangesSection } from "./views/diff.tsx";
import type { JobChanges } from "../review/changes.ts";
import { ChainSection } from "./views/chain.tsx";

export interface Review {
  changes: JobChanges;
  chain: Chain | null;
  discardBlocked: string | null;
  followUpBlocked: string | null;
}

const LIVE = new Set(["waiting", "queued", "running"]);

/** What the job page shows of a worktree job; null for any other job. */
export async function reviewOf(deps: AppDeps, job: JobRecord): Promise<Review | null> {
  const worktree = jobWorktree(job);
  if (worktree.kind === "none") return null;
  const [changes, chain] = await Promise.all([jobChanges(job, PAGE_LIMITS), jobChain(deps.sql, job)]);
  const live = chain?.jobs.find((j) => j.id !== job.id && LIVE.has(j.status));
  const discardBlocked = job.status === "running" ? "Not while the job runs: cancel it first, or wait for it to end."
    : LIVE.has(job.status) ? `Not while the job is ${job.status}: cancel it first.`
    : live ? `Not while job ${live.id} on this branch is ${live.status}.` : null;
  // A job that has not ended is followed up after it (its final session); one that ended without a session cannot be.
  const session = job.result?.sessionId;
  const ended = job.status === "finished" || job.status === "failed" || job.status === "cancelled";
  const followUpBlocked = changes.state === "discarded" ? "The branch was discarded: there is nothing to follow up on."
    : !ended || (typeof session === "string" && session !== "") ? null
    : `A follow-up resumes this job's Claude session, and it ended without one (it is ${job.status}).`;
  return { changes, chain, discardBlocked, followUpBlocked };
}

/** GET /partials/jobs/:id/changes: the Changes section again (its Refresh button, while the job runs). */
export async function changesPartial(deps: AppDeps, job: JobRecord): Promise<JSX.Element> {
  const review = await reviewOf(deps, job);
  if (!review) throw new NotFoundError(`job ${job.id} did not run in a worktree`);
  return <ChangesSection job={job} changes={review.changes} discardBlocked={review.discardBlocked} />;
}

/** GET /jobs/:id/patch: the whole patch as text, for reading or `git apply`. */
export async function patchResponse(job: JobRecord): Promise<Response> {
  const stream = await jobPatch(job);
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

/** POST /jobs/:id/discard: htmx gets the Changes section again (and the chain: no follow-up of a discarded branch), a form a redirect back. */
export async function discardAction(deps: AppDeps, id: string, request: Request): Promise<Response | JSX.Element> {
  const job = await deps.queue.get(id);
  const result: DiscardResult = await discardWorktree(deps.sql, job);
  if (!isHtmx(request)) return redirect(`/jobs/${job.id}?done=discarded`);
  const review = await reviewOf(deps, job);
  return (
    <>
      <ChangesSection job={job} changes={review!.changes} discardBlocked={review!.discardBlocked} discarded={result} />
      {review!.chain ? <ChainSection job={job} chain={review!.chain} followUpBlocked={review!.followUpBlocked} oob /> : ""}
    </>
  );
}

/**
 * POST /jobs/:id/follow-up: htmx gets the chain section again (naming the new
 * job), and the Changes section (Discard waits for the follow-up now); a form
 * the new job's page.
 */
export async function followUpAction(deps: AppDeps, id: string, prompt: unknown, request: Request): Promise<Response | JSX.Element> {
  const newId = await enqueueFollowUp(deps.queue, id, prompt);
  if (!isHtmx(request)) return redirect(`/jobs/${newId}?done=follow-up`);
  const job = await deps.queue.get(id);
  const review = await reviewOf(deps, job);
  return (
    <>
      <ChainSection job={job} chain={review!.chain!} followUpBlocked={review!.followUpBlocked} enqueued={newId} />
      <ChangesSection job={job} changes={review!.changes} discardBlocked={review!.discardBlocked} oob />
    </>
  );
}

/** GET /api/jobs/:id/diff: the diff as JSON, bounded as on the page. */
export async function diffJson(deps: AppDeps, id: string): Promise<Record<string, unknown>> {
  const job = await deps.queue.get(id);
  const changes = await jobChanges(job, PAGE_LIMITS);
  return changes.state === "none" ? changes : { ...changes, patchUrl: `/jobs/${job.id}/patch` };
}

/** The body of POST /api/jobs/:id/follow-up. */
export const FollowUpBody = t.Object({
  prompt: t.String({ minLength: 1, maxLength: 200_000, description: "what Claude should do next on the branch", error: "prompt: must be a string of 1-200000 characters" }),
}, { additionalProperties: false, error: "body: must be a JSON object with the field prompt" });
