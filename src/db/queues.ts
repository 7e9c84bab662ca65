// Typed wrappers around sql/queries/queue_*.sql: a queue's own row in
// claude_job_queues (paused or not, by whom, since when). A queue with no row
// is not paused; its job counts are job_stats.sql's, not here.

import type { Queryable } from "./connect.ts";
import pause from "../../sql/queries/queue_pause.sql" with { type: "text" };
import resume from "../../sql/queries/queue_resume.sql" with { type: "text" };
import list from "../../sql/queries/queue_list.sql" with { type: "text" };
import getOne from "../../sql/queries/queue_get.sql" with { type: "text" };

export interface QueueRow {
  name: string;
  pausedAt: Date | null;
  pausedBy: string | null;
  updatedAt: Date;
}

type Row = Record<string, unknown>;

async function run(sql: Queryable, text: string, params: unknown[]): Promise<QueueRow[]> {
  const rows = (await sql.unsafe(text, params as never[], { prepare: true })) as unknown as Row[];
  return rows.map((r) => ({
    name: r.name as string,
    pausedAt: (r.paused_at as Date | null) ?? null,
    pausedBy: (r.paused_by as string | null) ?? null,
    updatedAt: r.updated_at as Date,
  }));
}

/** Pauses the queue; null when it was paused already (nothing changed). */
export async function queuePause(sql: Queryable, name: string, pausedBy: string): Promise<QueueRow | null> {
  return (await run(sql, pause, [name, pausedBy]))[0] ?? null;
}

/** Resumes the queue and wakes idle workers; null when it was not paused. */
export async function queueResume(sql: Queryable, name: string): Promise<QueueRow | null> {
  return (await run(sql, resume, [name]))[0] ?? null;
}

export async function queueList(sql: Queryable): Promise<QueueRow[]> {
  return run(sql, list, []);
}

export async function queueGet(sql: Queryable, name: string): Promise<QueueRow | null> {
  return (await run(sql, getOne, [name]))[0] ?? null;
}
