// Typed wrappers around sql/queries/dash_*.sql: the dashboard's reads (list
// with search and sort, facets, throughput, durations) and its bulk actions.
// Only this module sends dashboard SQL to the driver. List queries run
// unprepared on purpose: each call is planned with its values, so an absent
// filter folds away and the planner picks the index that serves the rest.

import type { Queryable } from "./connect.ts";
import { rowToJob } from "./jobs.ts";
import type { JobRecord, JobStatus } from "../handlers/types.ts";
import listTemplate from "../../sql/queries/dash_job_list.sql" with { type: "text" };
import ids from "../../sql/queries/dash_job_ids.sql" with { type: "text" };
import cancelMany from "../../sql/queries/dash_cancel_many.sql" with { type: "text" };
import retryMany from "../../sql/queries/dash_retry_many.sql" with { type: "text" };
import throughput from "../../sql/queries/dash_throughput.sql" with { type: "text" };
import facets from "../../sql/queries/dash_facets.sql" with { type: "text" };
import durations from "../../sql/queries/dash_durations.sql" with { type: "text" };
import endedRecent from "../../sql/queries/dash_ended_recent.sql" with { type: "text" };

export const SORTS = {
  newest: { key: "created_at", dir: "DESC", cmp: "<" },
  oldest: { key: "created_at", dir: "ASC", cmp: ">" },
  next_due: { key: "run_at", dir: "ASC", cmp: ">" },
  last_due: { key: "run_at", dir: "DESC", cmp: "<" },
} as const;
export type SortName = keyof typeof SORTS;

/** One statement per sort, made once from the closed SORTS table. */
const LIST_SQL = Object.fromEntries(
  Object.entries(SORTS).map(([name, s]) => [
    name, listTemplate.replaceAll("{{key}}", s.key).replaceAll("{{dir}}", s.dir).replaceAll("{{cmp}}", s.cmp),
  ]),
) as Record<SortName, string>;

type Row = Record<string, unknown>;
const rows = async (sql: Queryable, text: string, params: unknown[]) =>
  (await sql.unsafe(text, params as never[])) as unknown as Row[];

/** A filter as the dashboard shows it: "queued" means due now, "scheduled" queued for later. */
export interface DashFilter {
  status?: JobStatus | "scheduled" | null;
  queue?: string | null;
  kind?: string | null;
  /** Plain text to find in the prompt (case-insensitive). */
  search?: string | null;
}

function filterParams(f: DashFilter): unknown[] {
  const status = f.status === "scheduled" ? "queued" : (f.status ?? null);
  const due = f.status === "queued" ? "due" : f.status === "scheduled" ? "scheduled" : null;
  const search = f.search ? `%${f.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
  return [status, due, f.queue ?? null, f.kind ?? null, search];
}

export interface DashListParams extends DashFilter {
  sort: SortName;
  after?: { key: Date; id: string } | null;
  limit: number;
}

export async function dashJobList(sql: Queryable, p: DashListParams): Promise<JobRecord[]> {
  const params = [...filterParams(p), p.after?.key.toISOString() ?? null, p.after?.id ?? null, p.limit];
  return (await rows(sql, LIST_SQL[p.sort], params)).map(rowToJob);
}

export async function dashJobIds(sql: Queryable, f: DashFilter, limit: number): Promise<string[]> {
  return (await rows(sql, ids, [...filterParams(f), limit])).map((r) => r.id as string);
}

/** Cancels (or asks to cancel) the queued and running jobs among `ids`; returns those it touched. */
export async function dashCancelMany(sql: Queryable, jobIds: string[]): Promise<string[]> {
  if (jobIds.length === 0) return [];
  return (await rows(sql, cancelMany, [jobIds])).map((r) => r.id as string);
}

/** Puts the failed and cancelled jobs among `ids` back in the queue; returns those it touched. */
export async function dashRetryMany(sql: Queryable, jobIds: string[]): Promise<string[]> {
  if (jobIds.length === 0) return [];
  return (await rows(sql, retryMany, [jobIds])).map((r) => r.id as string);
}

export interface MinuteCounts {
  minute: Date;
  finished: number;
  failed: number;
}

export async function dashThroughput(sql: Queryable, minutes = 60): Promise<MinuteCounts[]> {
  return (await rows(sql, throughput, [minutes])).map((r) => ({
    minute: r.minute as Date, finished: r.finished as number, failed: r.failed as number,
  }));
}

export async function dashFacets(sql: Queryable): Promise<{ queues: string[]; kinds: string[] }> {
  const all = await rows(sql, facets, []);
  const of = (facet: string) => all.filter((r) => r.facet === facet).map((r) => r.value as string);
  return { queues: of("queue"), kinds: of("kind") };
}

export const DURATION_BUCKETS = [1, 10, 60, 300, 900, 3600] as const;

export interface DurationRow {
  queue: string;
  status: string;
  count: number;
  sum: number;
  /** Cumulative counts for DURATION_BUCKETS, in order. */
  buckets: number[];
}

/**
 * Run times of the jobs that ended in (fromUs, toUs] (microseconds since the
 * epoch, as decimal strings), per queue and status, as histogram buckets;
 * the jobs whose key (`id@finishedUs`) is in `counted` are left out.
 */
export async function dashDurations(sql: Queryable, fromUs: string, toUs: string, counted: string[]): Promise<DurationRow[]> {
  return (await rows(sql, durations, [fromUs, toUs, counted])).map((r) => ({
    queue: r.queue as string,
    status: r.status as string,
    count: r.count as number,
    sum: r.sum as number,
    buckets: DURATION_BUCKETS.map((b) => r[`le_${b}`] as number),
  }));
}

export interface EndedJob {
  /** `id@finishedUs`: one end of one job (a job retried and ended again has another). */
  key: string;
  endedUs: bigint;
  queue: string;
  status: string;
  seconds: number;
}

/**
 * The cutoff greatest(sinceUs, now - settleMs) in microseconds, and each job
 * (with a run time) that ended after it.
 */
export async function dashEndedRecent(sql: Queryable, sinceUs: string, settleMs: number): Promise<{ cutoffUs: string; jobs: EndedJob[] }> {
  const all = await rows(sql, endedRecent, [sinceUs, settleMs]);
  return {
    cutoffUs: all[0]!.cutoff_us as string,
    jobs: all.filter((r) => r.key !== null).map((r) => ({
      key: r.key as string, endedUs: BigInt(r.ended_us as string), queue: r.queue as string, status: r.status as string, seconds: r.seconds as number,
    })),
  };
}
