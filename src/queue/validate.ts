// Checks everything a caller hands the queue (CLI flags, HTTP bodies, library
// calls) before anything is written. Each failure is an InputError naming the
// field and what is allowed; nothing reaches the database until all pass.

import { InputError } from "../errors.ts";
import { parseDuration } from "../duration.ts";
import type { HandlerDefinition, JobStatus } from "../handlers/types.ts";
import { JOB_STATUSES } from "../handlers/types.ts";
import type { JobInsert } from "../db/jobs.ts";

export const QUEUE_NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
export const KIND_NAME = /^[a-z][a-z0-9_.:-]{0,62}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const PRIORITY_RANGE = [-1000, 1000] as const;
export const MAX_ATTEMPTS_RANGE = [1, 1000] as const;

export interface EnqueueParams {
  kind?: string;
  queue?: string;
  priority?: number;
  payload: Record<string, unknown>;
  /** When the job becomes due: a Date or an ISO 8601 time. Exclusive with delay. */
  runAt?: Date | string;
  /** Milliseconds, or a duration like "5m". Exclusive with runAt. */
  delay?: number | string;
  maxAttempts?: number;
  /** Overrides the kind's own concurrency key; null: no limit. */
  concurrencyKey?: string | null;
  /**
   * How many jobs with the concurrency key may run at once, 1-10000 (default:
   * the kind's own, else 1). Needs a key. Jobs sharing a key should share it.
   */
  concurrencyLimit?: number;
  /**
   * While a job with this key is waiting, queued (due or scheduled) or
   * running — and in the final states `uniqueStates` adds — enqueueing
   * another with the key inserts nothing and returns the existing job.
   */
  uniqueKey?: string;
  /**
   * The states in which the key counts. Always waiting, queued and running (a
   * job moves between them on its own); add finished, failed or cancelled to
   * keep the key taken after the job ends (deleting the job frees it).
   */
  uniqueStates?: JobStatus[];
  /**
   * Jobs this one waits for: job ids, or (in enqueueMany) the index of an
   * earlier job of the same call. It runs once all have finished, and is
   * cancelled if one fails for good or is cancelled.
   */
  after?: (string | number)[];
}

/** A job enqueued with `after` names at most this many jobs. */
export const MAX_AFTER = 100;
export const CONCURRENCY_LIMIT_RANGE = [1, 10_000] as const;
/** The states a unique key always counts in. */
export const UNIQUE_LIVE_STATES: readonly JobStatus[] = ["waiting", "queued", "running"];

export function validateQueueName(field: string, value: unknown): string {
  if (typeof value !== "string" || !QUEUE_NAME.test(value)) {
    throw new InputError(field, `must be 1-63 characters of a-z, 0-9, '_', '.', '-', starting with a letter or digit; got ${JSON.stringify(value)}`);
  }
  return value;
}

export function validateKindName(field: string, value: unknown): string {
  if (typeof value !== "string" || !KIND_NAME.test(value)) {
    throw new InputError(field, `must be 1-63 characters of a-z, 0-9, '_', '.', ':', '-', starting with a letter; got ${JSON.stringify(value)}`);
  }
  return value;
}

export function validateId(field: string, value: unknown): string {
  if (typeof value !== "string" || !UUID.test(value)) {
    throw new InputError(field, `must be a job id (a UUID like 0192f1c4-7b1e-7cc0-8d2a-5e1f0a9b3c4d); got ${JSON.stringify(value)}`);
  }
  return value.toLowerCase();
}

export function validateStatus(field: string, value: unknown): JobStatus {
  if (typeof value !== "string" || !(JOB_STATUSES as readonly string[]).includes(value)) {
    throw new InputError(field, `must be one of ${JOB_STATUSES.join(", ")}; got ${JSON.stringify(value)}`);
  }
  return value as JobStatus;
}

export function validateIntInRange(field: string, value: unknown, [min, max]: readonly [number, number]): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InputError(field, `must be an integer from ${min} to ${max}; got ${JSON.stringify(value)}`);
  }
  return value;
}

/** The earliest and latest times accepted (run_at, cursors): what both JavaScript and PostgreSQL hold, as ISO 8601. */
export const TIME_RANGE = [Date.UTC(1970, 0, 1), Date.UTC(9999, 11, 31, 23, 59, 59, 999)] as const;

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * A time as users write it (ISO 8601: a date, or a date and time with an
 * optional zone), checked field by field: `2026-02-30` or `24:00` is refused,
 * never rolled over into the next month or day, and the year must be within
 * TIME_RANGE (PostgreSQL has no year 0).
 */
export function parseIsoTime(field: string, text: string): Date {
  const bad = (why: string) => new InputError(field, `${why}; got ${JSON.stringify(text)}`);
  const m = ISO_TIME.exec(text);
  if (!m) throw bad("must be an ISO 8601 time like 2026-12-01T09:00:00Z");
  const [year, month, day, hour = 0, minute = 0, second = 0] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((v) => (v === undefined ? undefined : Number(v))) as number[];
  if (month! < 1 || month! > 12) throw bad("has no such month");
  if (day! < 1 || day! > daysIn(year!, month!)) throw bad(`has no such day (${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")} has ${daysIn(year!, month!)} days)`);
  if (hour > 23 || minute > 59 || second > 59) throw bad("has no such time of day");
  const zone = m[8];
  if (zone && zone.toUpperCase() !== "Z") {
    const digits = zone.replace(":", "");
    if (Number(digits.slice(1, 3)) > 23 || Number(digits.slice(3)) > 59) throw bad("has no such time zone offset");
  }
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw bad("must be an ISO 8601 time like 2026-12-01T09:00:00Z");
  checkTimeRange(field, date, text);
  return date;
}

function checkTimeRange(field: string, date: Date, shown: unknown): void {
  const t = date.getTime();
  if (Number.isNaN(t) || t < TIME_RANGE[0] || t > TIME_RANGE[1]) {
    throw new InputError(field, `must be between 1970-01-01 and 9999-12-31; got ${JSON.stringify(shown)}`);
  }
}

function validateRunAt(runAt: Date | string): Date {
  if (runAt instanceof Date) {
    checkTimeRange("run_at", runAt, Number.isNaN(runAt.getTime()) ? "Invalid Date" : runAt.toISOString());
    return runAt;
  }
  if (typeof runAt !== "string") throw new InputError("run_at", `must be an ISO 8601 time like 2026-12-01T09:00:00Z; got ${JSON.stringify(runAt)}`);
  return parseIsoTime("run_at", runAt);
}

/**
 * A keyset cursor's time, as this program writes it (Date#toISOString): any
 * other text, or a time outside TIME_RANGE, is an InputError (a crafted
 * cursor must not reach PostgreSQL as an out-of-range timestamp).
 */
export function parseCursorTime(field: string, text: string): Date {
  const date = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(text) ? new Date(text) : new Date(NaN);
  if (Number.isNaN(date.getTime()) || date.toISOString() !== text || date.getTime() < TIME_RANGE[0] || date.getTime() > TIME_RANGE[1]) {
    throw new InputError(field, "must be the cursor of a previous page");
  }
  return date;
}

/** Deepest nesting of a payload: an object holding an array holding ... counts one level each. */
export const MAX_PAYLOAD_DEPTH = 64;

/**
 * Where `value` nests deeper than `maxDepth` levels (objects and arrays; a
 * scalar is 0, `{}` is 1), as the top-level key it happens under ("" for the
 * value itself, or an array), or null. Iterative: a 100,000-deep value
 * cannot overflow the stack here.
 */
export function jsonDepthProblem(value: unknown, maxDepth: number): { field: string } | null {
  const stack: [unknown, number, string][] = [[value, 0, ""]];
  while (stack.length > 0) {
    const [v, depth, top] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (depth + 1 > maxDepth) return { field: top };
    if (Array.isArray(v)) {
      for (const item of v) stack.push([item, depth + 1, top]);
    } else {
      for (const [k, item] of Object.entries(v)) stack.push([item, depth + 1, depth === 0 && top === "" ? k : top]);
    }
  }
  return null;
}

const path = (base: string, key: string | number) =>
  typeof key === "number" ? `${base}[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;

/** Text PostgreSQL can store as given: no NUL, no lone surrogate (it would become U+FFFD). */
export function textProblem(value: string): string | null {
  if (value.includes("\0")) return "must not contain NUL characters (\\u0000)";
  if (!value.isWellFormed()) return "must be valid Unicode text (it holds a lone surrogate, \\ud800-\\udfff)";
  return null;
}

/** A string field as stored: InputError naming it for NUL or a lone surrogate. */
export function validateText(field: string, value: string): string {
  const problem = textProblem(value);
  if (problem) throw new InputError(field, problem);
  return value;
}

/**
 * A payload is stored as jsonb exactly as given, or refused naming the place:
 * JSON types only (a Date, NaN or a function would be changed or dropped by
 * JSON), text PostgreSQL can hold (keys too), at most MAX_PAYLOAD_DEPTH levels.
 */
export function validateJsonValue(field: string, value: unknown): void {
  const deep = jsonDepthProblem(value, MAX_PAYLOAD_DEPTH);
  if (deep) throw new InputError(field, `nests deeper than ${MAX_PAYLOAD_DEPTH} levels`);
  const stack: [unknown, string][] = [[value, field]];
  while (stack.length > 0) {
    const [v, at] = stack.pop()!;
    if (v === null || typeof v === "boolean") continue;
    if (typeof v === "string") {
      validateText(at, v);
      continue;
    }
    if (typeof v === "number") {
      if (!Number.isFinite(v)) throw new InputError(at, `must be a finite number; got ${String(v)}`);
      continue;
    }
    if (Array.isArray(v)) {
      v.forEach((item, i) => {
        if (item === undefined) throw new InputError(path(at, i), "must be a JSON value, not undefined");
        stack.push([item, path(at, i)]);
      });
      continue;
    }
    const proto = typeof v === "object" ? Object.getPrototypeOf(v) : undefined;
    if (typeof v !== "object" || (proto !== Object.prototype && proto !== null)) {
      const what = v instanceof Date ? "a Date (send date.toISOString())" : typeof v === "object" ? `a ${proto?.constructor?.name ?? "non-plain"} object` : `a ${typeof v}`;
      throw new InputError(at, `must be a JSON value (null, boolean, number, string, array or plain object); got ${what}`);
    }
    for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
      const problem = textProblem(k);
      if (problem) throw new InputError(at, `has a key that ${problem}: ${JSON.stringify(k)}`);
      if (item !== undefined) stack.push([item, path(at, k)]);
    }
  }
}

function validateDelay(delay: number | string): number {
  const ms = typeof delay === "number" ? delay : parseDuration("delay", delay);
  if (!Number.isFinite(ms) || ms < 0 || ms > 366 * 86_400_000) {
    throw new InputError("delay", `must be between 0 and 366 days; got ${JSON.stringify(delay)}`);
  }
  return ms;
}

/** Turns caller params into a row to insert, using the kind's own payload rules when known. */
export function validateEnqueue(params: EnqueueParams, definitions: ReadonlyMap<string, HandlerDefinition>): JobInsert {
  if (params === null || typeof params !== "object") throw new InputError("job", "must be an object");
  const kind = validateKindName("kind", params.kind ?? "claude");
  const queue = validateQueueName("queue", params.queue ?? "default");
  const priority = validateIntInRange("priority", params.priority ?? 0, PRIORITY_RANGE);
  const maxAttempts = validateIntInRange("max_attempts", params.maxAttempts ?? 3, MAX_ATTEMPTS_RANGE);
  if (params.runAt !== undefined && params.delay !== undefined) {
    throw new InputError("run_at", "give either run_at or delay, not both");
  }
  const runAt = params.runAt === undefined ? null : validateRunAt(params.runAt);
  const delayMs = params.delay === undefined ? 0 : validateDelay(params.delay);
  if (params.payload === null || typeof params.payload !== "object" || Array.isArray(params.payload)) {
    throw new InputError("payload", `must be a JSON object; got ${JSON.stringify(params.payload)}`);
  }
  validateJsonValue("payload", params.payload);
  const definition = definitions.get(kind);
  const payload = definition?.validate ? definition.validate(params.payload) : params.payload;
  let concurrencyKey = definition?.concurrencyKey ? definition.concurrencyKey(payload) : null;
  let concurrencyLimit = concurrencyKey !== null && definition?.concurrencyLimit ? definition.concurrencyLimit(payload) : 1;
  if (params.concurrencyKey !== undefined) {
    concurrencyKey = params.concurrencyKey === null ? null : validateKeyText("concurrency_key", params.concurrencyKey, true);
  }
  if (params.concurrencyLimit !== undefined) {
    concurrencyLimit = validateIntInRange("concurrency_limit", params.concurrencyLimit, CONCURRENCY_LIMIT_RANGE);
    if (concurrencyKey === null) {
      throw new InputError("concurrency_limit", `needs a concurrency key (concurrency_key), and kind ${JSON.stringify(kind)} gives this job none`);
    }
  }
  if (concurrencyKey === null) concurrencyLimit = 1;
  const uniqueKey = params.uniqueKey === undefined ? null : validateKeyText("unique_key", params.uniqueKey, false)!;
  let uniqueStates: JobStatus[] | null = null;
  if (params.uniqueStates !== undefined) {
    if (uniqueKey === null) throw new InputError("unique_states", "needs a unique key (unique_key)");
    uniqueStates = validateUniqueStates(params.uniqueStates);
  } else if (uniqueKey !== null) {
    uniqueStates = [...UNIQUE_LIVE_STATES];
  }
  return {
    id: Bun.randomUUIDv7(), kind, queue, priority, payload, runAt, delayMs, maxAttempts, concurrencyKey, concurrencyLimit,
    uniqueKey, uniqueStates, after: [], status: "queued",
  };
}

function validateKeyText(field: string, value: unknown, nullable: boolean): string {
  if (typeof value !== "string" || value.length === 0 || value.length > 1000) {
    throw new InputError(field, `must be a non-empty string of at most 1000 characters${nullable ? ", or null" : ""}; got ${JSON.stringify(value)}`);
  }
  return validateText(field, value);
}

function validateUniqueStates(value: unknown): JobStatus[] {
  if (!Array.isArray(value)) throw new InputError("unique_states", `must be an array of job states; got ${JSON.stringify(value)}`);
  const states = new Set<JobStatus>(UNIQUE_LIVE_STATES);
  value.forEach((state, i) => states.add(validateStatus(`unique_states[${i}]`, state)));
  for (const live of ["queued", "running"] as const) {
    if (!value.includes(live)) {
      throw new InputError("unique_states", `must include queued and running (a job moves between them, and waiting, on its own: ` +
        `a key cannot count in one and not the other); add finished, failed or cancelled to keep it after the job ends; got ${JSON.stringify(value)}`);
    }
  }
  return JOB_STATUSES.filter((s) => states.has(s));
}

/**
 * The `after` list of the job at `index` of an enqueue call: job ids, or the
 * index of an earlier job of the same call (which the caller maps to its id).
 * Returns the ids and the earlier indexes, deduplicated.
 */
export function validateAfter(value: unknown, index: number | null): { ids: string[]; earlier: number[] } {
  if (!Array.isArray(value)) throw new InputError("after", `must be an array of job ids; got ${JSON.stringify(value)}`);
  if (value.length > MAX_AFTER) throw new InputError("after", `may name at most ${MAX_AFTER} jobs; got ${value.length}`);
  const ids = new Set<string>();
  const earlier = new Set<number>();
  value.forEach((ref, i) => {
    if (typeof ref === "number") {
      if (index === null) throw new InputError(`after[${i}]`, `must be a job id; a number refers to an earlier job of the same bulk enqueue, and this is a single job`);
      if (!Number.isInteger(ref) || ref < 0 || ref >= index) {
        const allowed = index === 0 ? "a job id (this is the first job of the enqueue: no earlier job to refer to)" : `a job id or the index of an earlier job of this enqueue (0 to ${index - 1})`;
        throw new InputError(`after[${i}]`, `must be ${allowed}; got ${ref}`);
      }
      earlier.add(ref);
      return;
    }
    ids.add(validateId(`after[${i}]`, ref));
  });
  return { ids: [...ids], earlier: [...earlier] };
}
