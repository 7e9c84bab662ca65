/** @jsxImportSource @kitajs/html */
// The workers page: the live workers (their advisory lock is held right now),
// with host, pid, queues, concurrency, start time and the jobs each runs.

import type { WorkerInfo } from "../../db/workers.ts";
import { Layout, PageHeader } from "./layout.tsx";
import { esc, isoTime, relativeTime, shortId } from "./format.ts";

export function WorkersPage(p: { workers: WorkerInfo[]; signedIn?: boolean }) {
  return (
    <Layout title="Workers" active="workers" signedIn={p.signedIn}>
      <PageHeader title="Workers" subtitle="Workers whose database lock is held right now. Live: refreshes every 2 seconds." />
      <WorkersLive workers={p.workers} />
    </Layout>
  );
}

export function WorkersLive({ workers }: { workers: WorkerInfo[] }) {
  const now = new Date();
  return (
    <section id="workers-live" class="card flush" hx-get="/partials/workers" hx-trigger="every 2s" hx-swap="outerHTML">
      {workers.length === 0 ? (
        <p class="empty pad">No live workers. Start one with <code>claude-jobs worker</code> or <code>claude-jobs serve</code>.</p>
      ) : (
        <div class="table-wrap">
          <table class="table">
            <thead>
              <tr><th>Worker</th><th>Host</th><th class="num">PID</th><th>Queues</th><th class="num">Busy</th><th class="hide-sm-y">Started</th><th>Running</th></tr>
            </thead>
            <tbody>
              {workers.map((w) => (
                <tr data-worker-id={String(w.id)}>
                  <td class="mono">#{String(w.id)} <span class="muted">v{esc(w.version)}</span></td>
                  <td>{esc(w.host)}</td>
                  <td class="num">{String(w.pid)}</td>
                  <td>{esc(w.queues.join(", "))}</td>
                  <td class="num">{`${w.runningJobIds.length}/${w.concurrency}`}</td>
                  <td class="hide-sm-y" title={isoTime(w.startedAt)}>{esc(relativeTime(w.startedAt, now))}</td>
                  <td class="running-jobs">
                    {w.runningJobIds.length === 0 ? <span class="muted">idle</span> : w.runningJobIds.map((id) => (
                      <a class="mono chip" href={`/jobs/${id}`}>{esc(shortId(id))}</a>
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
