/** @jsxImportSource @kitajs/html */
// The job page's "Branch" section: the chain of jobs that work on one
// worktree branch (the root that made it, the job this one follows up, its
// follow-ups, and all of them in order) and the follow-up form. A partial of
// its own (#job-chain): htmx swaps it after a follow-up is enqueued.

import type { JobRecord } from "../../handlers/types.ts";
import type { Chain } from "../../review/chain.ts";
import type { ChainJob } from "../../db/chain.ts";
import { StatusBadge } from "./layout.tsx";
import { esc, shortId } from "./format.ts";

export interface ChainProps {
  job: JobRecord;
  chain: Chain;
  /** Why a follow-up cannot be enqueued now; null: the form is offered. */
  followUpBlocked: string | null;
  /** Just enqueued (the htmx answer to the form): the new job's id. */
  enqueued?: string | null;
  /** Sent beside another section's htmx answer, to replace this one too (hx-swap-oob). */
  oob?: boolean;
}

function role(chain: Chain, j: ChainJob): string[] {
  const roles: string[] = [];
  if (j.id === chain.jobId) roles.push("this job");
  if (j.id === chain.rootId) roles.push("root");
  if (j.id === chain.parentId) roles.push("parent");
  if (chain.followUpIds.includes(j.id)) roles.push("follow-up");
  return roles;
}

function JobLink({ id, current }: { id: string; current: string }) {
  return id === current ? <span class="mono">{esc(shortId(id))}</span> : <a class="mono" href={`/jobs/${id}`}>{esc(shortId(id))}</a>;
}

export function ChainSection(p: ChainProps) {
  const { chain, job } = p;
  return (
    <section class="card chain" id="job-chain" hx-swap-oob={p.oob ? "true" : undefined}>
      <h2>Branch chain</h2>
      {p.enqueued ? (
        <div class="notice" role="status" data-follow-up-enqueued={p.enqueued}>
          Follow-up <a class="mono" href={`/jobs/${p.enqueued}`}>{esc(shortId(p.enqueued))}</a> enqueued: it resumes this session on the same branch.
        </div>
      ) : ""}
      <dl class="facts inner">
        <div class="fact"><dt>Root</dt><dd><JobLink id={chain.rootId} current={job.id} /></dd></div>
        <div class="fact"><dt>Parent</dt><dd>{chain.parentId ? <JobLink id={chain.parentId} current={job.id} /> : "–"}</dd></div>
        <div class="fact wide"><dt>Follow-ups</dt><dd data-follow-ups>{chain.followUpIds.length === 0 ? "none" : chain.followUpIds.map((id) => <><JobLink id={id} current={job.id} />{" "}</>)}</dd></div>
      </dl>
      {chain.jobs.length > 1 ? (
        <ol class="chain-list" data-chain>
          {chain.jobs.map((j) => (
            <li data-chain-job={j.id} class={j.id === job.id ? "current" : undefined}>
              <JobLink id={j.id} current={job.id} /> <StatusBadge status={j.status} />{" "}
              {role(chain, j).map((r) => <span class="chain-role">{esc(r)}</span>)}{" "}
              <span class="muted chain-prompt">{esc(j.prompt ?? "")}</span>
            </li>
          ))}
        </ol>
      ) : ""}
      {chain.truncated ? <p class="muted">{esc(`Only the first ${chain.jobs.length} jobs of the chain are listed.`)}</p> : ""}
      <FollowUpForm job={job} blocked={p.followUpBlocked} />
    </section>
  );
}

function FollowUpForm({ job, blocked }: { job: JobRecord; blocked: string | null }) {
  const action = `/jobs/${job.id}/follow-up`;
  if (blocked) return <p class="muted" data-follow-up-blocked>{esc(blocked)}</p>;
  return (
    <form class="follow-up" method="post" action={action} hx-post={action} hx-target="#job-chain" hx-swap="outerHTML">
      <label class="field wide">
        <span>Follow up</span>
        <textarea name="prompt" rows="3" required placeholder="What should Claude do next on this branch?"></textarea>
        <small class="muted">Resumes this job's Claude session in the same worktree, on the same branch{job.status === "running" || job.status === "queued" || job.status === "waiting" ? ", once this job has finished" : ""}.</small>
      </label>
      <div class="form-actions"><button class="button primary" type="submit" data-action="follow-up">Enqueue follow-up</button></div>
    </form>
  );
}
