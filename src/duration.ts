// Durations as users write them: "90s", "5m", "1h30m", "250ms", "2d".
// A bare number is refused: "5" could mean seconds or minutes, so we ask.

import { InputError } from "./errors.ts";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

/** Parses a duration to milliseconds, or throws InputError naming `field`. */
export function parseDuration(field: string, text: string): number {
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
  return Math.round(total);
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
