// The job list's query (status, queue, kind, search, sort, cursor, limit):
// parsed and checked once for the pages, the partials, the bulk actions and
// the JSON API alike; bad values are InputErrors naming the parameter. Also
// the keyset cursor's encoding and the URLs that carry a query along.

import { InputError } from "../errors.ts";
import { SORTS, type DashFilter, type DashListParams, type SortName } from "../db/dashboard.ts";
import { KIND_NAME, QUEUE_NAME, validateText } from "../queue/validate.ts";
import type { JobRecord } from "../handlers/types.ts";
import { decodeCursor as decodeKeyCursor, encodeCursor as encodeKeyCursor, pageOf as pageOfRows } from "../queue/cursor.ts";

const STATUSES = ["waiting", "queued", "scheduled", "running", "finished", "failed", "cancelled"] as const;

export interface ListQuery extends DashFilter {
  sort: SortName;
  cursor: string | null;
  limit: number;
}

type Raw = Record<string, string | string[] | undefined>;

/** The first value of a query parameter; "" counts as absent (an untouched form field). */
function one(raw: Raw, name: string): string | undefined {
  const v = raw[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s === "" ? undefined : s;
}

export function parseListQuery(raw: Raw, defaults: { limit?: number } = {}): ListQuery {
  const status = one(raw, "status");
  if (status !== undefined && !(STATUSES as readonly string[]).includes(status)) {
    throw new InputError("status", `must be one of ${STATUSES.join(", ")}; got ${JSON.stringify(status)}`);
  }
  const queue = one(raw, "queue");
  if (queue !== undefined && !QUEUE_NAME.test(queue)) throw new InputError("queue", `is not a queue name; got ${JSON.stringify(queue)}`);
  const kind = one(raw, "kind");
  if (kind !== undefined && !KIND_NAME.test(kind)) throw new InputError("kind", `is not a job kind; got ${JSON.stringify(kind)}`);
  const search = one(raw, "q");
  if (search !== undefined && search.length > 200) throw new InputError("q", "must be at most 200 characters");
  if (search !== undefined) validateText("q", search);
  const sort = one(raw, "sort") ?? "newest";
  if (!Object.hasOwn(SORTS, sort)) throw new InputError("sort", `must be one of ${Object.keys(SORTS).join(", ")}; got ${JSON.stringify(sort)}`);
  const limitText = one(raw, "limit");
  const limit = limitText === undefined ? (defaults.limit ?? 50) : /^\d{1,4}$/.test(limitText) ? Number(limitText) : NaN;
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
    throw new InputError("limit", `must be an integer from 1 to 500; got ${JSON.stringify(limitText)}`);
  }
  const cursor = one(raw, "cursor") ?? null;
  if (cursor !== null) decodeCursor(cursor);
  return {
    status: (status as ListQuery["status"]) ?? null, queue: queue ?? null, kind: kind ?? null,
    search: search ?? null, sort: sort as SortName, cursor, limit,
  };
}

/** The list query for a page: one row more than the page, to know whether another page follows (pageOf). */
export function toListParams(q: ListQuery): DashListParams {
  return { ...q, limit: q.limit + 1, after: q.cursor === null ? null : decodeCursor(q.cursor) };
}

/** The cursor after `job` in sort order: its sort key and id. */
export function encodeCursor(job: JobRecord, sort: SortName): string {
  return encodeKeyCursor(SORTS[sort].key === "run_at" ? job.runAt : job.createdAt, job.id);
}

export function decodeCursor(cursor: string): { key: Date; id: string } {
  return decodeKeyCursor(cursor, "the cursor of a previous page");
}

/** The page out of what toListParams fetched, and the cursor to the next page only when there is one. */
export function pageOf(fetched: JobRecord[], q: ListQuery): { jobs: JobRecord[]; next: string | null } {
  return pageOfRows(fetched, q.limit, (last) => encodeCursor(last, q.sort));
}

/** A URL under `path` carrying the query's filters (and any overrides). */
export function listUrl(path: string, q: ListQuery, extra: Record<string, string | number | null> = {}): string {
  const params = new URLSearchParams();
  const base: Record<string, string | number | null | undefined> = {
    status: q.status, queue: q.queue, kind: q.kind, q: q.search, sort: q.sort === "newest" ? null : q.sort, ...extra,
  };
  for (const [k, v] of Object.entries(base)) if (v !== null && v !== undefined && v !== "") params.set(k, String(v));
  const s = params.toString();
  return s ? `${path}?${s}` : path;
}
