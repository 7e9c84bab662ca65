/** @jsxImportSource @kitajs/html */
// Job table rows, shared by the overview, the job list and its live refresh:
// id, kind, queue, priority, status, attempts, created, run at, duration and
// a short prompt. Every piece of job data goes through esc().

import type { JobRecord } from "../../handlers/types.ts";
import { StatusBadge } from "./layout.tsx";
import {
  displayStatus, esc, formatDuration, isoTime, jobDurationMs, jobLabel, relativeTime, shortId,
} from "./format.ts";

export interface RowsProps {
  jobs: JobRecord[];
  selectable: boolean;
  /** The next page's URL (keyset cursor), or null on the last page. */
  moreUrl?: string | null;
  now?: Date;
}

export function JobTable(p: RowsProps & { liveUrl?: string }) {
  return (
    <div class="table-wrap">
      <table class="table jobs">
        <thead>
          <tr>
            {p.selectable ? <th class="check"><input type="checkbox" data-select-all aria-label="Select all" /></th> : ""}
            <th>Job</th>
            <th>Status</th>
            <th class="hide-sm-y">Kind</th>
            <th class="hide-sm-y">Queue</th>
            <th class="num hide-sm-y">Prio</th>
            <th class="num hide-sm-y">Tries</th>
            <th class="hide-sm-y">Created</th>
            <th class="hide-sm-y">Run at</th>
            <th class="num hide-sm-y">Duration</th>
          </tr>
        </thead>
        {p.liveUrl ? (
          <tbody id="job-rows" hx-get={p.liveUrl} hx-trigger="every 5s" hx-swap="innerHTML" data-live-rows>
            <JobRows {...p} />
          </tbody>
        ) : (
          <tbody><JobRows {...p} /></tbody>
        )}
      </table>
    </div>
  );
}

export function JobRows(p: RowsProps) {
  const now = p.now ?? new Date();
  const cols = p.selectable ? 10 : 9;
  if (p.jobs.length === 0) return <tr class="empty-row"><td colspan={String(cols)}>No jobs match.</td></tr>;
  return (
    <>
      {p.jobs.map((job) => <JobRow job={job} selectable={p.selectable} now={now} />)}
      {p.moreUrl ? <LoadMore url={p.moreUrl} cols={cols} /> : ""}
    </>
  );
}

function JobRow({ job, selectable, now }: { job: JobRecord; selectable: boolean; now: Date }) {
  const status = displayStatus(job, now);
  return (
    <tr data-job-id={job.id} data-status={status}>
      {selectable ? (
        <td class="check"><input type="checkbox" name="ids" value={job.id} form="bulk-form" aria-label={`Select job ${shortId(job.id)}`} /></td>
      ) : ""}
      <td class="job-cell">
        <a class="mono id" href={`/jobs/${job.id}`}>{esc(shortId(job.id))}</a>
        <span class="prompt" title={jobLabel(job, 400)}>{esc(jobLabel(job, 90))}</span>
      </td>
      <td><StatusBadge status={status} />{job.cancelRequestedAt && job.status === "running" ? <span class="hint"> cancelling</span> : ""}</td>
      <td class="hide-sm-y mono">{esc(job.kind)}</td>
      <td class="hide-sm-y">{esc(job.queue)}</td>
      <td class="num hide-sm-y">{String(job.priority)}</td>
      <td class="num hide-sm-y">{`${job.attempts}/${job.maxAttempts}`}</td>
      <td class="hide-sm-y nowrap" title={isoTime(job.createdAt)}>{esc(relativeTime(job.createdAt, now))}</td>
      <td class="hide-sm-y nowrap" title={isoTime(job.runAt)}>{esc(relativeTime(job.runAt, now))}</td>
      <td class="num nowrap hide-sm-y">{esc(formatDuration(jobDurationMs(job, now)))}</td>
    </tr>
  );
}

function LoadMore({ url, cols }: { url: string; cols: number }) {
  return (
    <tr class="load-more" id="load-more">
      <td colspan={String(cols)}>
        <button class="button ghost" type="button" hx-get={url} hx-target="#load-more" hx-swap="outerHTML">Load more</button>
      </td>
    </tr>
  );
}
