// Durations as users write them: "90s", "5m", "1h30m", "250ms", "2d".
// A bare number is refused: "5" could mean seconds or minutes, so we ask.

import { InputError } from "./errors.ts";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

/**
 * The longest delay setTimeout/setInterval can hold: they keep it as a
 * signed 32-bit count of milliseconds, and a longer one is set to 1ms
 * (so `setInterval(f, 99999999h)` runs f every millisecond). About 24.8
 * days. Any duration that ends up in a timer must be bounded by this, with
 * room for the jitter added to it.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const DAY_MS = UNIT_MS.d!;
/** The bound of a timeout flag: the largest whole number of days a timer holds. */
export const MAX_TIMEOUT_MS = 24 * DAY_MS;
/**
 * The bound of an interval flag: a week. The worker stretches its intervals
 * by up to +10% of jitter, which must still fit in a timer; and polling or
 * rescuing less often than weekly is never what was meant.
 */
export const MAX_INTERVAL_MS = 7 * DAY_MS;

export interface DurationBounds {
  /** Smallest accepted value in ms (inclusive). */
  min?: number;
  /** Largest accepted value in ms (inclusive). */
  max?: number;
}

/** Parses a duration to milliseconds, or throws InputError naming `field`; `bounds` refuse values out of range. */
export function parseDuration(field: string, text: string, bounds: DurationBounds = {}): number {
  const input = text.trim();
  const allowed = `a duration like 90s, 5m, 1h30m or 250ms (units ms, s, m, h, d); got ${JSON.stringify(text)}`;
  if (input === "") throw new InputError(field, `must be ${allowed}`);
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < input.length) {
    const match = PART.exec(input);
    if (!match) throw new InputError(field, `must be ${allowed}`);
    total += Number(match[1]) * UNIT_MS[match[2]!]!;
  }
  if (!Number.isFinite(total)) throw new InputError(field, `must be ${allowed}`);
  const ms = Math.round(total);
  if (bounds.max !== undefined && ms > bounds.max) {
    throw new InputError(field, `must be at most ${formatDuration(bounds.max)}; got ${JSON.stringify(text)}`);
  }
  if (bounds.min !== undefined && ms < bounds.min) {
    throw new InputError(field, `must be at least ${formatDuration(bounds.min)}; got ${JSON.stringify(text)}`);
  }
  return ms;
}

/** 93_000 -> "1m33s"; for messages and tables. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  let seconds = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["m", 60]] as const) {
    if (seconds >= size) {
      parts.push(`${Math.floor(seconds / size)}${unit}`);
      seconds %= size;
    }
  }
  if (seconds > 0 || parts.length === 0) parts.push(`${seconds}s`);
  return parts.join("");
}
