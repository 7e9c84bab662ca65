/** @jsxImportSource @kitajs/html */
// The job page's dependencies: what the job waits for (and whether each has
// finished), and what waits for it. Shown only for jobs that have either.

import type { JobDependencies, RelatedJob } from "../../db/jobs.ts";
import type { JobRecord } from "../../handlers/types.ts";
import { StatusBadge } from "./layout.tsx";
import { esc, shortId } from "./format.ts";

export function DependenciesSection({ job, deps }: { job: JobRecord; deps: JobDependencies }) {
  if (deps.parents.length === 0 && deps.dependents.length === 0) return "";
  const pending = deps.parents.filter((p) => p.status !== "finished").length;
  return (
    <section class="card" data-dependencies>
      <h2>Dependencies</h2>
      {job.status === "waiting" ? (
        <p class="muted">{`Waiting for ${pending} of ${deps.parents.length} job${deps.parents.length === 1 ? "" : "s"} to finish; it is cancelled if one fails or is cancelled.`}</p>
      ) : ""}
      {deps.parents.length > 0 ? <Related title="Runs after" jobs={deps.parents} /> : ""}
      {deps.dependents.length > 0 ? <Related title="Runs before" jobs={deps.dependents} /> : ""}
    </section>
  );
}

function Related({ title, jobs }: { title: string; jobs: RelatedJob[] }) {
  return (
    <>
      <h3>{esc(title)}</h3>
      <ul class="related-jobs">
        {jobs.map((j) => (
          <li>
            <StatusBadge status={j.status} /> <a class="mono" href={`/jobs/${j.id}`}>{esc(shortId(j.id))}</a>{" "}
            <span class="muted">{esc(j.kind)}</span>{j.prompt ? <> <span>{esc(j.prompt)}</span></> : ""}
          </li>
        ))}
      </ul>
    </>
  );
}
