/** @jsxImportSource @kitajs/html */
// The job list page: filters (status, queue, kind, prompt search, sort) as a
// GET form so the URL keeps them, the bulk action bar, and the table whose
// rows refresh live every 5 s and page by keyset ("Load more").

import type { JobRecord } from "../../handlers/types.ts";
import { SORTS } from "../../db/dashboard.ts";
import { Layout, PageHeader } from "./layout.tsx";
import { JobTable } from "./job-rows.tsx";
import { esc } from "./format.ts";
import type { ListQuery } from "../list-query.ts";

export const FILTER_STATUSES = ["waiting", "queued", "scheduled", "running", "finished", "failed", "cancelled"] as const;

const SORT_LABELS: Record<keyof typeof SORTS, string> = {
  newest: "Newest first", oldest: "Oldest first", next_due: "Run at: soonest", last_due: "Run at: latest",
};

export interface JobsPageProps {
  query: ListQuery;
  jobs: JobRecord[];
  moreUrl: string | null;
  liveUrl: string;
  facets: { queues: string[]; kinds: string[] };
  notice?: string | null;
  signedIn?: boolean;
}

function Select(p: { name: string; label: string; value: string | undefined; options: [string, string][] }) {
  return (
    <label class="field">
      <span>{esc(p.label)}</span>
      <select name={p.name}>
        {p.options.map(([value, text]) => (
          <option value={value} selected={value === (p.value ?? "")}>{esc(text)}</option>
        ))}
      </select>
    </label>
  );
}

export function JobsPage(p: JobsPageProps) {
  const q = p.query;
  const any = (label: string): [string, string] => ["", label];
  return (
    <Layout title="Jobs" active="jobs" signedIn={p.signedIn}>
      <PageHeader title="Jobs" subtitle="Live: new and changed jobs appear every 5 seconds." />
      {p.notice ? <div class="notice" role="status">{esc(p.notice)}</div> : ""}
      <form class="filters card" method="get" action="/jobs">
        <label class="field grow">
          <span>Search prompts</span>
          <input type="search" name="q" value={q.search ?? ""} placeholder="text in the prompt" maxlength="200" />
        </label>
        <Select name="status" label="Status" value={q.status ?? undefined}
          options={[any("Any status"), ...FILTER_STATUSES.map((s): [string, string] => [s, s])]} />
        <Select name="queue" label="Queue" value={q.queue ?? undefined}
          options={[any("Any queue"), ...withCurrent(p.facets.queues, q.queue).map((s): [string, string] => [s, s])]} />
        <Select name="kind" label="Kind" value={q.kind ?? undefined}
          options={[any("Any kind"), ...withCurrent(p.facets.kinds, q.kind).map((s): [string, string] => [s, s])]} />
        <Select name="sort" label="Sort" value={q.sort}
          options={Object.entries(SORT_LABELS) as [string, string][]} />
        <div class="field-actions">
          <button class="button primary" type="submit">Apply</button>
          <a class="button ghost" href="/jobs">Reset</a>
        </div>
      </form>
      <BulkBar query={q} />
      <section class="card flush">
        <JobTable jobs={p.jobs} selectable={true} moreUrl={p.moreUrl} liveUrl={p.liveUrl} />
      </section>
    </Layout>
  );
}

function withCurrent(values: string[], current: string | null | undefined): string[] {
  return current && !values.includes(current) ? [...values, current] : values;
}

function BulkBar({ query }: { query: ListQuery }) {
  return (
    <form id="bulk-form" class="bulk-bar" method="post" action="/jobs/bulk">
      <input type="hidden" name="status" value={query.status ?? ""} />
      <input type="hidden" name="queue" value={query.queue ?? ""} />
      <input type="hidden" name="kind" value={query.kind ?? ""} />
      <input type="hidden" name="q" value={query.search ?? ""} />
      <span class="muted bulk-count" data-selected-count>Select jobs for bulk actions, or act on all that match.</span>
      <div class="bulk-buttons">
        <button class="button small" type="submit" name="action" value="retry-selected" data-needs-selection>Retry selected</button>
        <button class="button small danger" type="submit" name="action" value="cancel-selected" data-needs-selection
          data-confirm="Cancel the selected jobs? Running ones are stopped.">Cancel selected</button>
        <button class="button small ghost" type="submit" name="action" value="retry-matching"
          data-confirm="Retry every failed or cancelled job that matches this filter?">Retry all matching</button>
        <button class="button small ghost danger" type="submit" name="action" value="cancel-matching"
          data-confirm="Cancel every queued or running job that matches this filter? Running ones are stopped.">Cancel all matching</button>
      </div>
    </form>
  );
}
