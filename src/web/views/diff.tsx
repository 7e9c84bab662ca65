/** @jsxImportSource @kitajs/html */
// The job page's "Changes" section: what the agent changed on its branch,
// against its base commit. The stat at the top, then each file in a
// <details> (open for the first, small ones), bounded (what is left out says
// so and links to the raw patch), the commands that merge or push the branch
// (the user runs them; claude-jobs never does), and Discard. Every file
// name, line and function context is the agent's data: escaped with esc(),
// never raw. A partial of its own (#job-changes): htmx swaps it after Discard.

import type { JobRecord } from "../../handlers/types.ts";
import type { DiffFile, Hunk, ReadyDiff } from "../../git/diff.ts";
import type { JobChanges } from "../../review/changes.ts";
import { mergeCommands } from "../../git/diff.ts";
import type { DiscardResult } from "../../review/discard.ts";
import { esc } from "./format.ts";

/** What the page knows of the job's changes. */
export type ChangesState = JobChanges;

export interface ChangesProps {
  job: JobRecord;
  changes: ChangesState;
  /** Why Discard is not offered now (a job of the chain runs or is still to run); null: offered. */
  discardBlocked: string | null;
  /** Just discarded (the htmx answer to Discard): what was removed. */
  discarded?: DiscardResult | null;
  /** Sent beside another section's htmx answer, to replace this one too (hx-swap-oob). */
  oob?: boolean;
}

/** Files shown open at first: the first few, when they are not long. */
const OPEN_FILES = 10;
const OPEN_LINES = 400;

const short = (sha: string) => sha.slice(0, 10);

export function ChangesSection(p: ChangesProps) {
  const c = p.changes;
  return (
    <section class="card changes" id="job-changes" data-changes-state={c.state} hx-swap-oob={p.oob ? "true" : undefined}>
      <div class="card-head"><h2>Changes</h2>{c.state === "ready" ? <span class="muted">{esc(`${c.totals.files} files`)}</span> : ""}</div>
      {p.discarded ? <Discarded r={p.discarded} /> : ""}
      {c.state === "waiting" || c.state === "malformed" || c.state === "none" ? <p class="muted" data-changes-message>{esc(c.message)}</p> : ""}
      {c.state === "unavailable" ? <p class="muted" data-changes-message>{esc(c.reason)}</p> : ""}
      {c.state === "discarded" ? (
        <p class="muted" data-changes-message>
          The branch <code>{esc(c.record.branch)}</code> is gone: this work was discarded (or the branch deleted). Nothing to show.
        </p>
      ) : ""}
      {c.state === "ready" ? <Ready job={p.job} d={c} /> : ""}
      {c.state === "ready" || (c.state === "discarded" && c.worktreePresent) ? <DiscardForm job={p.job} blocked={p.discardBlocked} /> : ""}
    </section>
  );
}

function Discarded({ r }: { r: DiscardResult }) {
  const what = [r.removedPath ? `the worktree folder ${r.path}` : "", r.deletedBranch ? `the branch ${r.branch}` : ""].filter(Boolean);
  return (
    <div class="notice" role="status" data-discarded>
      {esc(what.length > 0 ? `Discarded: removed ${what.join(" and ")}.` : `Nothing left to remove: ${r.path} and ${r.branch} were already gone.`)}
    </div>
  );
}

function Ready({ job, d }: { job: JobRecord; d: ReadyDiff }) {
  const r = d.record;
  const patch = `/jobs/${job.id}/patch`;
  const moved = r.headCommit !== null && r.headCommit !== d.tipCommit;
  return (
    <>
      <dl class="facts inner">
        <div class="fact wide"><dt>Branch</dt><dd class="mono">{esc(r.branch)}</dd></div>
        <div class="fact"><dt>Base</dt><dd class="mono" title={r.baseCommit}>{esc(short(r.baseCommit))}</dd></div>
        <div class="fact"><dt>Tip</dt><dd class="mono" title={d.tipCommit}>{esc(short(d.tipCommit))}</dd></div>
        <div class="fact wide"><dt>Worktree</dt><dd class="mono">{esc(d.worktreePresent ? r.path : "pruned (the branch keeps the changes)")}</dd></div>
      </dl>
      {d.snapshotTree ? (
        <p class="notice" role="status" data-live-changes>
          The job is running: this is its worktree as it is now, uncommitted work included (files copied in are left out).{" "}
          <button class="button small ghost" type="button" hx-get={`/partials/jobs/${job.id}/changes`} hx-target="#job-changes" hx-swap="outerHTML" data-action="refresh-changes">Refresh</button>
        </p>
      ) : ""}
      {moved ? <p class="muted">{esc(`The branch has moved on since this job (it ended at ${short(r.headCommit!)}): follow-ups added to it. Shown: the whole branch.`)}</p> : ""}
      {d.totals.files === 0 ? (
        <p class="muted" data-changes-message>{esc(r.changed === false ? "The run changed nothing." : "No changes between the base and the branch.")}</p>
      ) : <Stat d={d} />}
      {d.cut ? (
        <div class="notice warn" role="status" data-diff-cut>
          This diff is large: {esc(cutSummary(d))} <a href={patch} data-raw-patch>The raw patch</a> has all of it.
        </div>
      ) : ""}
      <div class="diff-files">{d.files.map((f, i) => <FileDiff f={f} index={i} patch={patch} />)}</div>
      <p class="diff-links"><a href={patch} data-raw-patch>Raw patch</a> <span class="muted">(text, for <code>git apply</code>)</span></p>
      <MergeCommands repository={r.repository} branch={r.branch} />
    </>
  );
}

function cutSummary(d: ReadyDiff): string {
  const cut = d.files.filter((f) => f.cut !== null).length;
  const parts = [cut > 0 ? `${cut} file${cut === 1 ? "" : "s"} shown without their lines` : "", d.unlistedFiles > 0 ? `${d.unlistedFiles} more not listed` : ""];
  return parts.filter(Boolean).join(", ") + ".";
}

function label(f: DiffFile): string {
  return f.oldPath !== null ? `${f.oldPath} → ${f.path}` : f.path;
}

function Stat({ d }: { d: ReadyDiff }) {
  const most = Math.max(1, ...d.files.map((f) => f.insertions + f.deletions));
  return (
    <div class="diff-stat" data-diff-stat>
      <p class="diff-totals"><strong>{esc(`${d.totals.files} file${d.totals.files === 1 ? "" : "s"} changed`)}</strong>{" "}
        <span class="add">{esc(`+${d.totals.insertions}`)}</span> <span class="del">{esc(`−${d.totals.deletions}`)}</span></p>
      <table class="diff-stat-table">
        {d.files.map((f, i) => {
          const n = f.insertions + f.deletions;
          const width = Math.round((n / most) * 100);
          return (
            <tr>
              <td><span class={`diff-status s-${f.status}`}>{esc(f.status)}</span></td>
              <td class="mono diff-stat-path"><a href={`#diff-file-${i}`}>{esc(label(f))}</a></td>
              <td class="mono nowrap">{f.binary ? "binary" : <><span class="add">{esc(`+${f.insertions}`)}</span> <span class="del">{esc(`−${f.deletions}`)}</span></>}</td>
              <td class="diff-bar-cell"><Bar n={n} insertions={f.insertions} width={width} /></td>
            </tr>
          );
        })}
      </table>
      {d.unlistedFiles > 0 ? <p class="muted">{esc(`… and ${d.unlistedFiles} more files (in the raw patch)`)}</p> : ""}
    </div>
  );
}

/** The stat's bar: an SVG (the CSP allows no inline style), green for insertions, red for deletions. */
function Bar({ n, insertions, width }: { n: number; insertions: number; width: number }) {
  const add = n ? Math.round((insertions / n) * width) : 0;
  return (
    <svg class="diff-bar" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true">
      <rect class="bar-add" x="0" y="0" width={String(add)} height="8" />
      <rect class="bar-del" x={String(add)} y="0" width={String(width - add)} height="8" />
    </svg>
  );
}

function FileDiff({ f, index, patch }: { f: DiffFile; index: number; patch: string }) {
  const lines = f.hunks.reduce((n, h) => n + h.lines.length, 0);
  const open = index < OPEN_FILES && lines <= OPEN_LINES;
  const mode = f.oldMode !== f.newMode && f.status !== "added" && f.status !== "deleted" ? `mode ${f.oldMode} → ${f.newMode}` : "";
  return (
    <details class="diff-file" id={`diff-file-${index}`} open={open} data-diff-file={String(index)}>
      <summary>
        <span class={`diff-status s-${f.status}`}>{esc(f.status)}</span>{" "}
        <span class="mono diff-path" data-diff-path>{esc(label(f))}</span>{" "}
        {f.binary ? <span class="muted">binary</span> : <span class="mono"><span class="add">{esc(`+${f.insertions}`)}</span> <span class="del">{esc(`−${f.deletions}`)}</span></span>}
        {f.similarity !== null ? <span class="muted">{esc(` ${f.similarity}% similar`)}</span> : ""}
        {mode ? <span class="muted">{esc(` ${mode}`)}</span> : ""}
      </summary>
      {f.binary ? <p class="muted diff-note">Binary file: no text diff.</p> : ""}
      {f.cut === "file-too-large" ? <p class="muted diff-note" data-file-cut>Too large to show here. <a href={patch}>See the raw patch.</a></p> : ""}
      {f.cut === "total-limit" ? <p class="muted diff-note" data-file-cut>Not shown: the diff is over what this page shows at once. <a href={patch}>See the raw patch.</a></p> : ""}
      {!f.binary && f.cut === null && f.hunks.length === 0 ? <p class="muted diff-note">No content change.</p> : ""}
      {f.hunks.length > 0 ? <table class="diff-lines">{f.hunks.map((h) => <HunkRows h={h} />)}</table> : ""}
    </details>
  );
}

const MARK = { add: "+", del: "-", context: " ", note: "" } as const;

function HunkRows({ h }: { h: Hunk }) {
  return (
    <>
      <tr class="hunk"><td class="ln"></td><td class="ln"></td><td class="code">{esc(h.range)}{h.context ? <span class="muted">{esc(` ${h.context}`)}</span> : ""}</td></tr>
      {h.lines.map((l) => (
        <tr class={l.kind}>
          <td class="ln">{l.oldLine === null ? "" : String(l.oldLine)}</td>
          <td class="ln">{l.newLine === null ? "" : String(l.newLine)}</td>
          <td class="code">{esc(MARK[l.kind] + l.text)}</td>
        </tr>
      ))}
    </>
  );
}

export function MergeCommands(p: { repository: string; branch: string }) {
  const c = mergeCommands(p);
  return (
    <div class="merge-commands" data-merge-commands>
      <p class="muted">To take these changes, run one of these yourself (claude-jobs never merges or pushes):</p>
      <pre class="code">{esc(`${c.merge}\n${c.push}`)}</pre>
    </div>
  );
}

function DiscardForm({ job, blocked }: { job: JobRecord; blocked: string | null }) {
  const action = `/jobs/${job.id}/discard`;
  return (
    <div class="form-actions">
      <form method="post" action={action} class="inline" hx-post={action} hx-target="#job-changes" hx-swap="outerHTML"
        hx-confirm="Discard this work? The worktree folder and the branch are deleted; this cannot be undone.">
        <button class="button danger" type="submit" data-action="discard" disabled={blocked !== null}>Discard worktree and branch</button>
      </form>
      {blocked ? <span class="muted">{esc(blocked)}</span> : ""}
    </div>
  );
}
