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
}

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
  if (params.concurrencyKey !== undefined) {
    if (params.concurrencyKey !== null && (typeof params.concurrencyKey !== "string" || params.concurrencyKey.length === 0 || params.concurrencyKey.length > 1000)) {
      throw new InputError("concurrency_key", "must be a non-empty string of at most 1000 characters, or null");
    }
    concurrencyKey = params.concurrencyKey === null ? null : validateText("concurrency_key", params.concurrencyKey);
  }
  return { id: Bun.randomUUIDv7(), kind, queue, priority, payload, runAt, delayMs, maxAttempts, concurrencyKey };
}
