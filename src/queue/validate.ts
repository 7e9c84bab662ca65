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

function validateRunAt(runAt: Date | string): Date {
  const date = runAt instanceof Date ? runAt : new Date(runAt);
  const looksIso = runAt instanceof Date || /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(runAt);
  if (!looksIso || Number.isNaN(date.getTime())) {
    throw new InputError("run_at", `must be an ISO 8601 time like 2026-12-01T09:00:00Z; got ${JSON.stringify(runAt)}`);
  }
  return date;
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
  const kind = params.kind ?? "claude";
  if (typeof kind !== "string" || !KIND_NAME.test(kind)) {
    throw new InputError("kind", `must be 1-63 characters of a-z, 0-9, '_', '.', ':', '-', starting with a letter; got ${JSON.stringify(kind)}`);
  }
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
  const definition = definitions.get(kind);
  const payload = definition?.validate ? definition.validate(params.payload) : params.payload;
  let concurrencyKey = definition?.concurrencyKey ? definition.concurrencyKey(payload) : null;
  if (params.concurrencyKey !== undefined) {
    if (params.concurrencyKey !== null && (typeof params.concurrencyKey !== "string" || params.concurrencyKey.length === 0 || params.concurrencyKey.length > 1000)) {
      throw new InputError("concurrency_key", "must be a non-empty string of at most 1000 characters, or null");
    }
    concurrencyKey = params.concurrencyKey;
  }
  return { id: Bun.randomUUIDv7(), kind, queue, priority, payload, runAt, delayMs, maxAttempts, concurrencyKey };
}
