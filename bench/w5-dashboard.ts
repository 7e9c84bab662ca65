// W5: the dashboard at scale. With 1,000,000 jobs in the table (mostly
// finished, some failed, cancelled, queued, scheduled and running, over four
// queues and three kinds, with prompts like real ones), p50/p99 over 200
// requests each, in process through createApp(...).handle (no network), of:
// GET /api/stats, the job list's first page (/jobs), a filtered page
// (/jobs?status=failed&queue=batch) and the page of a random job (/jobs/:id),
// each with the token as a bearer header (every request needs one).
// Target (issue 4): p99 under 50 ms each. The rows are made in SQL by one
// INSERT ... SELECT generate_series, then VACUUM ANALYZE; the table is
// truncated after, so later workloads see it as they found it.

import type { Sql } from "../src/db/connect.ts";
import { Queue } from "../src/queue/client.ts";
import { createApp } from "../src/web/app.tsx";
import { generateToken } from "../src/web/security.ts";

type Report = (line: Record<string, unknown>) => void;

const ROWS = 1_000_000;
const REQUESTS = 200;
const WARMUP = 10;

// One row per g: created 2.5 s apart over the last ~29 days, with a UUIDv7 id
// made from created_at (as Bun.randomUUIDv7 does at enqueue). By g % 1000:
// 85% finished, 7% failed, 3% cancelled, 3% queued and due, 1.8% scheduled,
// 0.2% running (owned by worker ids that hold no lock: nothing rescues them,
// no worker runs during W5).
const FILL = `
WITH src AS (
  SELECT g, g % 1000 AS r,
         now() - (${ROWS} - g) * interval '2.5 seconds' AS created,
         md5(g::text) AS h,
         (ARRAY['default','default','default','high','low','batch'])[1 + g % 6] AS queue,
         (ARRAY['claude','claude','claude','claude','noop','email'])[1 + (g / 7) % 6] AS kind,
         (ARRAY['Fix the failing test in src/parser/module_%s.ts and explain the root cause',
                'Refactor the billing service so invoice %s is computed in one transaction',
                'Write unit tests for the date helpers used by report %s',
                'Review the pull request #%s for security problems and summarise them',
                'Upgrade the dependencies of package %s and fix what breaks',
                'Translate the README of project %s into French, keep the code blocks',
                'Find why the nightly job %s is slow and propose an index',
                'Add structured logging to the HTTP handlers of service %s'])[1 + g % 8] AS template
  FROM generate_series(1, ${ROWS}) AS g
), jobs AS (
  SELECT *,
         CASE WHEN r < 850 THEN 'finished' WHEN r < 920 THEN 'failed' WHEN r < 950 THEN 'cancelled'
              WHEN r < 998 THEN 'queued' ELSE 'running' END::claude_job_status AS status
  FROM src
)
INSERT INTO claude_jobs (id, kind, queue, priority, status, payload, run_at, attempts, max_attempts,
                         worker_id, error, errors, result, created_at, started_at, finished_at)
SELECT (lpad(to_hex((extract(epoch FROM created) * 1000)::bigint), 12, '0') || '7' || substr(h, 1, 3)
          || '8' || substr(h, 4, 15))::uuid,
       kind, queue, (g % 3) - 1, status,
       jsonb_build_object('prompt', format(template, g % 977), 'cwd', '/srv/repos/app-' || g % 40),
       CASE WHEN status = 'queued' AND r >= 980 THEN now() + (g % 3600) * interval '1 second' ELSE created END,
       CASE WHEN status IN ('queued') THEN 0 WHEN status = 'failed' THEN 3 ELSE 1 END, 3,
       CASE WHEN status = 'running' THEN 900000 + g % 8 END,
       CASE WHEN status = 'failed' THEN 'claude exited 1: rate limited' END,
       CASE WHEN status = 'failed' THEN jsonb_build_array(
              jsonb_build_object('attempt', 1, 'at', created, 'message', 'claude exited 1: rate limited'),
              jsonb_build_object('attempt', 2, 'at', created, 'message', 'claude exited 1: rate limited'),
              jsonb_build_object('attempt', 3, 'at', created, 'message', 'claude exited 1: rate limited'))
            ELSE '[]'::jsonb END,
       CASE WHEN status = 'finished' AND kind = 'claude' THEN jsonb_build_object(
              'sessionId', h, 'numTurns', g % 30, 'costUsd', (g % 200) / 100.0, 'text', 'Done: ' || template) END,
       created,
       CASE WHEN status NOT IN ('queued') THEN created + interval '1 second' END,
       CASE WHEN status IN ('finished', 'failed', 'cancelled') THEN created + (1 + g % 600) * interval '1 second' END
FROM jobs`;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function timeRequests(handle: (path: string) => Promise<Response>, paths: () => string): Promise<{ p50_ms: number; p99_ms: number }> {
  for (let i = 0; i < WARMUP; i++) await (await handle(paths())).text();
  const ms: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const path = paths();
    const t = performance.now();
    const response = await handle(path);
    await response.text();
    ms.push(performance.now() - t);
    if (response.status !== 200) throw new Error(`W5: GET ${path} answered ${response.status}`);
  }
  ms.sort((a, b) => a - b);
  return { p50_ms: Number(percentile(ms, 50).toFixed(2)), p99_ms: Number(percentile(ms, 99).toFixed(2)) };
}

export async function w5(report: Report, sql: Sql): Promise<void> {
  let t = performance.now();
  await sql.unsafe(FILL);
  const fillS = (performance.now() - t) / 1000;
  t = performance.now();
  await sql.unsafe("VACUUM ANALYZE claude_jobs");
  const vacuumS = (performance.now() - t) / 1000;
  try {
    const token = generateToken();
    const app = createApp({ queue: new Queue(sql), sql, token, onError: (e) => console.error("W5:", e) });
    const headers = { authorization: `Bearer ${token}` };
    const handle = (path: string) => app.handle(new Request(`http://localhost${path}`, { headers }));
    const ids = (await sql`SELECT id FROM claude_jobs TABLESAMPLE SYSTEM (1) LIMIT 1000`).map((r) => r.id as string);
    let next = 0;
    const figures = {
      stats: await timeRequests(handle, () => "/api/stats"),
      list: await timeRequests(handle, () => "/jobs"),
      filtered: await timeRequests(handle, () => "/jobs?status=failed&queue=batch"),
      job: await timeRequests(handle, () => `/jobs/${ids[next++ % ids.length]}`),
    };
    report({
      workload: "W5", name: "dashboard 1M jobs", rows: ROWS, requests: REQUESTS,
      fill_s: Number(fillS.toFixed(1)), vacuum_s: Number(vacuumS.toFixed(1)),
      ...Object.fromEntries(Object.entries(figures).flatMap(([k, v]) => [[`${k}_p50_ms`, v.p50_ms], [`${k}_p99_ms`, v.p99_ms]])),
    });
  } finally {
    await sql.unsafe("TRUNCATE claude_jobs");
  }
}
