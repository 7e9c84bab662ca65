// Queues as things of their own: list them with their counts, pause and
// resume them. A paused queue is claimed by no worker (the claim queries skip
// it, in the database, for every worker at once); its running jobs finish;
// enqueueing into it still works, the jobs wait. The state lives in
// claude_job_queues, so it holds across worker restarts and on every host.
// Validates input, then calls the typed wrappers (src/db/queues.ts).

import type { Sql } from "../db/connect.ts";
import { jobStats, type QueueCounts } from "../db/jobs.ts";
import { queueGet, queueList, queuePause, queueResume, type QueueRow } from "../db/queues.ts";
import { InputError } from "../errors.ts";
import { validateQueueName } from "./validate.ts";

export interface QueueInfo extends QueueCounts {
  paused: boolean;
  /** When the pause in force began; null when not paused. */
  pausedAt: Date | null;
  /** Who paused it (`user@host` from the CLI, `dashboard@<address>`, or what the caller said); null when not paused. */
  pausedBy: string | null;
}

export interface QueueChange {
  queue: QueueInfo;
  /** False when the queue already was in that state (nothing was written). */
  changed: boolean;
}

const ZERO = { waiting: 0, queued: 0, scheduled: 0, running: 0, finished: 0, failed: 0, cancelled: 0 };
/** Longer is no name but a paragraph; control characters would rewrite a terminal that lists it. */
const MAX_BY = 200;
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** Who paused a queue: 1-200 characters, no control characters. */
export function validatePausedBy(field: string, value: unknown): string {
  if (typeof value !== "string" || value.trim() === "" || value.length > MAX_BY || CONTROL.test(value)) {
    throw new InputError(field, `must be 1-${MAX_BY} characters without control characters (who paused the queue, e.g. alice@build-1); got ${JSON.stringify(value)}`);
  }
  return value.trim();
}

export class Queues {
  constructor(readonly sql: Sql) {}

  /** Every queue that has jobs or is paused, by name, with its counts by status. */
  async list(): Promise<QueueInfo[]> {
    const [counts, rows] = await Promise.all([jobStats(this.sql), queueList(this.sql)]);
    const byName = new Map(rows.map((r) => [r.name, r]));
    const listed = counts.map((c) => info(c.queue, c, byName.get(c.queue) ?? null));
    const named = new Set(counts.map((c) => c.queue));
    for (const r of rows) if (r.pausedAt !== null && !named.has(r.name)) listed.push(info(r.name, null, r));
    return listed.sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
  }

  /** One queue (any valid name: a queue with no jobs and no row is an empty, running queue). */
  async get(name: string): Promise<QueueInfo> {
    const checked = validateQueueName("queue", name);
    const [counts, row] = await Promise.all([jobStats(this.sql), queueGet(this.sql, checked)]);
    return info(checked, counts.find((c) => c.queue === checked) ?? null, row);
  }

  /** The names of the paused queues, sorted. */
  async paused(): Promise<string[]> {
    return (await queueList(this.sql)).filter((r) => r.pausedAt !== null).map((r) => r.name);
  }

  /** Pauses the queue (it need not have jobs yet). Pausing a paused queue keeps the first pause's time and author. */
  async pause(name: string, options: { by: string }): Promise<QueueChange> {
    const checked = validateQueueName("queue", name);
    const by = validatePausedBy("by", options.by);
    const row = await queuePause(this.sql, checked, by);
    return { queue: await this.get(checked), changed: row !== null };
  }

  /** Resumes the queue and wakes idle workers (NOTIFY), so its due jobs start at once. */
  async resume(name: string): Promise<QueueChange> {
    const checked = validateQueueName("queue", name);
    const row = await queueResume(this.sql, checked);
    return { queue: await this.get(checked), changed: row !== null };
  }
}

function info(name: string, counts: QueueCounts | null, row: QueueRow | null): QueueInfo {
  const paused = row?.pausedAt != null;
  return {
    ...ZERO, ...counts, queue: name,
    paused, pausedAt: paused ? row!.pausedAt : null, pausedBy: paused ? row!.pausedBy : null,
  };
}
