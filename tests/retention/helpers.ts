// Retention fixtures: jobs that ended a given time ago, inserted directly
// (thousands in one statement), and the check that the final-state counters
// (claude_job_counts, kept by triggers) agree with the rows themselves.

import type { TestDatabase } from "../helpers/db.ts";

export interface EndedJobs {
  n: number;
  status: "finished" | "failed" | "cancelled";
  /** How long before the database's now() they ended. */
  endedAgo: string;
  queue?: string;
  kind?: string;
}

/** Inserts `n` jobs that ended `endedAgo` (an interval) before now, 1 ms apart; returns their ids. */
export async function insertEnded(db: TestDatabase, j: EndedJobs): Promise<string[]> {
  const rows = await db.sql`
    INSERT INTO claude_jobs (kind, queue, status, payload, attempts, created_at, started_at, finished_at, error)
    SELECT ${j.kind ?? "noop"}, ${j.queue ?? "default"}, ${j.status}, '{}', 1, t - interval '2 s', t - interval '1 s', t,
           CASE WHEN ${j.status} = 'failed' THEN 'boom' END
    FROM (SELECT now() - ${j.endedAgo}::interval - i * interval '1 ms' AS t FROM generate_series(1, ${j.n}::int) i) s
    RETURNING id`;
  return rows.map((r) => r.id as string);
}

/** The counters and a real count, by queue and status, for final states: they must be equal. */
export async function countsAgree(db: TestDatabase): Promise<{ counters: Record<string, number>; rows: Record<string, number> }> {
  const counters = await db.sql`SELECT queue || '/' || status AS k, sum(n)::int AS n FROM claude_job_counts GROUP BY 1 HAVING sum(n) <> 0 ORDER BY 1`;
  const rows = await db.sql`SELECT queue || '/' || status AS k, count(*)::int AS n FROM claude_jobs
                            WHERE status IN ('finished', 'failed', 'cancelled') GROUP BY 1 ORDER BY 1`;
  const obj = (list: readonly Record<string, unknown>[]) => Object.fromEntries(list.map((r) => [r.k as string, r.n as number]));
  return { counters: obj(counters), rows: obj(rows) };
}

export async function countByStatus(db: TestDatabase): Promise<Record<string, number>> {
  const rows = await db.sql`SELECT status, count(*)::int AS n FROM claude_jobs GROUP BY 1`;
  return Object.fromEntries(rows.map((r) => [r.status as string, r.n as number]));
}
