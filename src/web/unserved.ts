// Queued jobs no live worker handles (jobUnserved), for the overview and
// /api/stats, which refresh every few seconds. The query groups every queued
// job by queue and kind (~25 ms at 50,000 queued), so its answer is kept for
// a few seconds per database client, and concurrent asks share one query.
// A new worker or a new kind shows within UNSERVED_TTL_MS.

import type { Sql } from "../db/connect.ts";
import { jobUnserved } from "../db/workers.ts";

export const UNSERVED_TTL_MS = 10_000;

type Unserved = Awaited<ReturnType<typeof jobUnserved>>;
const cache = new WeakMap<Sql, { at: number; value: Promise<Unserved> }>();

export function unservedJobs(sql: Sql, ttlMs = UNSERVED_TTL_MS, now = performance.now()): Promise<Unserved> {
  const hit = cache.get(sql);
  if (hit && now - hit.at < ttlMs) return hit.value;
  const value = jobUnserved(sql);
  cache.set(sql, { at: now, value });
  // A failed query is not kept: the next ask tries again.
  value.catch(() => { if (cache.get(sql)?.value === value) cache.delete(sql); });
  return value;
}
