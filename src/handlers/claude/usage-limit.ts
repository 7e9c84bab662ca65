// A subscription's usage limit, as the Claude CLI reports it: when it resets
// (from the structured rate_limit_event first, then from the texts the CLI
// prints), how long a job parked on it waits, and whose limit it is (the
// account key). Pure: the clock, the local zone and the randomness are
// arguments, so every case is a unit test. Knows no database and no worker.

import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { Cron } from "croner";

/** How a reset time was learned: the CLI's structured event, a text with a time, or the configured wait. */
export type ResetSource = "rate_limit_event" | "text" | "fallback";

export interface UsageLimit {
  /** When the account may run again. */
  resetsAt: Date;
  source: ResetSource;
  /** The zone the CLI named ("resets 8pm (Europe/Paris)"), canonical; null when it named none. */
  zone: string | null;
  /** five_hour, seven_day, ...: the rate_limit_event's rateLimitType, when it came. */
  rateLimitType: string | null;
}

export interface RecognizeInput {
  /** The run's last rate_limit_event. */
  rateLimit: { status: string | null; resetsAt: number | null; rateLimitType: string | null } | null;
  /** What the run said about its failure: the result, its errors, the stderr tail. */
  texts: string[];
  /** When the run ended: "8pm" means the first 20:00 after this. */
  now: Date;
  /** The wait when nothing says when the limit resets. */
  fallbackMs: number;
  /** The zone of a time printed with none (the CLI prints the user's local time). Default: this process's zone. */
  localZone?: string;
}

/** The texts of a reached usage limit (not a transient 429, which the CLI retries by itself). */
export const USAGE_LIMIT_TEXT = /You(?:'|\u2019)ve hit your (?:session |weekly |usage )?limit|usage limit reached/i;
/** `Claude AI usage limit reached|1767301200`: epoch seconds (milliseconds tolerated) after the bar. */
const EPOCH_TEXT = /usage limit reached\|(\d{9,13})\b/i;
/** `resets 8pm`, `resets 8:30pm`, `resets 20:00`, `resets Dec 3, 8pm`, each maybe followed by `(Europe/Paris)`. */
const RESET_TEXT = /\bresets\s+(?:(?:at|on)\s+)?(?:([A-Za-z]{3,9})\s+(\d{1,2}),?\s+(?:at\s+)?)?(\d{1,2})(?::(\d{2}))?\s*(am|pm)?(?:\s*\(([^)\s]+)\))?/i;
const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/** Never park for longer than this, whatever a text or event claims: a week covers the weekly limit. */
export const MAX_PARK_MS = 7 * 24 * 3600_000;
/** A reset time already past (clock skew, a stale event) still waits this long, so a job cannot spin. */
export const MIN_PARK_MS = 60_000;
/** At most this much is added to the reset time, so that parked jobs do not all start in the same second. */
export const PARK_JITTER_MS = 60_000;
export const DEFAULT_USAGE_LIMIT_WAIT_MS = 30 * 60_000;
export const DEFAULT_CONTINUE_PROMPT = "Continue where you left off.";

/**
 * Whether the run hit the account's usage limit, and when it resets; null
 * when it did not (a transient 429 is not a usage limit). Structured fields
 * first: a `rejected` rate_limit_event with its resetsAt. Then the texts: an
 * epoch after "usage limit reached|", or "resets 8pm (Europe/Paris)". A
 * usage limit with no time at all waits `fallbackMs`.
 */
export function recognizeUsageLimit(input: RecognizeInput): UsageLimit | null {
  const { rateLimit, now } = input;
  const said = input.texts.filter(Boolean).join("\n");
  const rejected = rateLimit?.status === "rejected";
  if (!rejected && !USAGE_LIMIT_TEXT.test(said)) return null;
  const rateLimitType = rateLimit?.rateLimitType ?? null;
  if (rejected && rateLimit.resetsAt !== null && rateLimit.resetsAt > 0) {
    return { resetsAt: fromEpoch(rateLimit.resetsAt), source: "rate_limit_event", zone: null, rateLimitType };
  }
  const epoch = EPOCH_TEXT.exec(said);
  if (epoch) return { resetsAt: fromEpoch(Number(epoch[1])), source: "text", zone: null, rateLimitType };
  const reset = parseResetText(said, now, input.localZone ?? localZone());
  if (reset) return { ...reset, source: "text", rateLimitType };
  return { resetsAt: new Date(now.getTime() + input.fallbackMs), source: "fallback", zone: null, rateLimitType };
}

/**
 * "resets 8pm (Europe/Paris)": the first such wall-clock time strictly after
 * `now` in that zone (DST included), or in `fallbackZone` when the text names
 * none or an unknown one. Null when the text has no reset time.
 */
export function parseResetText(text: string, now: Date, fallbackZone: string): { resetsAt: Date; zone: string | null } | null {
  const m = RESET_TEXT.exec(text);
  if (!m) return null;
  const [, monthName, dayText, hourText, minuteText, meridiem, zoneText] = m;
  let hour = Number(hourText);
  const minute = minuteText === undefined ? 0 : Number(minuteText);
  if (meridiem) {
    if (hour < 1 || hour > 12) return null;
    hour = (hour % 12) + (meridiem.toLowerCase() === "pm" ? 12 : 0);
  }
  if (hour > 23 || minute > 59) return null;
  const named = zoneText === undefined ? null : canonicalZone(zoneText);
  const zone = named ?? fallbackZone;
  let dayPart = "* *";
  if (monthName !== undefined) {
    const month = MONTHS.indexOf(monthName.slice(0, 3).toLowerCase());
    const day = Number(dayText);
    if (month < 0 || day < 1 || day > 31) return null;
    dayPart = `${day} ${month + 1}`;
  }
  let next: Date | null;
  try {
    next = new Cron(`${minute} ${hour} ${dayPart} *`, { paused: true, timezone: zone }).nextRun(now);
  } catch {
    return null;
  }
  return next === null ? null : { resetsAt: next, zone: named };
}

/** How long a parked job waits: until the reset, at least MIN_PARK_MS, at most MAX_PARK_MS, plus a jitter in [0, PARK_JITTER_MS). */
export function parkDelayMs(resetsAt: Date, now: Date, random: () => number = Math.random): number {
  const until = Math.min(MAX_PARK_MS, Math.max(MIN_PARK_MS, resetsAt.getTime() - now.getTime()));
  return until + Math.floor(random() * PARK_JITTER_MS);
}

/** "20:00" (today or tomorrow), else "Dec 3 20:00", in `zone`. */
export function formatResetTime(at: Date, now: Date, zone: string = localZone()): string {
  const time = new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(at);
  if (at.getTime() - now.getTime() < 20 * 3600_000) return time;
  const day = new Intl.DateTimeFormat("en-US", { timeZone: zone, month: "short", day: "numeric" }).format(at);
  return `${day} ${time}`;
}

/** The job's reason while it is parked: "waiting for the usage limit to reset at 20:00 (Europe/Paris)". */
export function parkReason(limit: UsageLimit, now: Date, zone: string = localZone()): string {
  const shownZone = limit.zone ?? zone;
  const how = limit.source === "fallback" ? "; claude gave no reset time, so the worker's --usage-limit-wait applies" : "";
  return `waiting for the usage limit to reset at ${formatResetTime(limit.resetsAt, now, shownZone)} (${shownZone})${how}`;
}

/** Whose limit it is: a key that never contains the secret, and a label a person can read. */
export interface AccountKey {
  key: string;
  /** Like "ANTHROPIC_API_KEY, /home/u/.claude": the credential's source and the config folder; never a secret. */
  label: string;
}

/** The variables the CLI takes credentials from, in the order it prefers them in -p mode. */
export const CREDENTIAL_VARIABLES = ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"] as const;

/**
 * The account key of the environment the CLI runs with: a SHA-256 of where
 * its credential comes from (the NAME of the variable that holds it, or the
 * credentials file of its config folder) and that config folder
 * ($CLAUDE_CONFIG_DIR, else $HOME/.claude). Workers that share both share a
 * login, so they share its usage limit, on any host. The secret itself is
 * never read into it. `account` (an operator's name for the account) replaces
 * the derived source, for accounts the environment cannot tell apart.
 */
export function accountKeyOf(env: Readonly<Record<string, string | undefined>>, account?: string): AccountKey {
  const configDir = resolve(env.CLAUDE_CONFIG_DIR || join(env.HOME || "/", ".claude"));
  const variable = CREDENTIAL_VARIABLES.find((name) => env[name]);
  const source = account !== undefined ? `account ${account}`
    : variable ?? (existsSync(join(configDir, ".credentials.json")) ? ".credentials.json" : "login");
  const key = createHash("sha256").update(`claude-jobs account v1\0${source}\0${configDir}`).digest("hex");
  return { key, label: `${source}, ${configDir}` };
}

function fromEpoch(value: number): Date {
  // Seconds, as the CLI sends them; a 13-digit number is milliseconds.
  return new Date(value > 1e12 ? value : value * 1000);
}

function canonicalZone(zone: string): string | null {
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

export function localZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

/** What stats, workers and the dashboard say of a paused account: "Claude paused until 20:00 (usage limit)". */
export function pausedText(until: Date, now: Date, zone: string = localZone()): string {
  return `Claude paused until ${formatResetTime(until, now, zone)} (usage limit)`;
}
