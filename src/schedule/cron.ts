// Cron expressions and their slots: the times a schedule enqueues a job at.
// Parsing and the calendar arithmetic are croner's (no dependencies, time
// zones and DST); this module adds the one rule croner leaves to its
// caller: a slot is a wall-clock time in the schedule's time zone, so a
// time that does not exist (the hour skipped when clocks go forward) is no
// slot, and a time that occurs twice (the hour repeated when they go back)
// is one slot, at its first occurrence. croner itself moves a fixed-time
// job out of a gap (02:30 becomes 03:00) and runs interval jobs twice in a
// repeated hour; both are filtered out here, for every kind of expression.

import { Cron } from "croner";
import { InputError } from "../errors.ts";

export const ALIASES = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"] as const;

const ALLOWED = "a 5-field cron expression (minute hour day-of-month month day-of-week; numbers, ranges 1-5, " +
  "lists 1,3, steps */15, names JAN-DEC and SUN-SAT) or one of " + ALIASES.join(", ");

/** Text: no control characters, at most `max` characters. */
function plainText(field: string, value: unknown, max: number): string {
  if (typeof value !== "string" || value.trim() === "") throw new InputError(field, `must be ${field === "timezone" ? "an IANA time zone name" : "a non-empty string"}; got ${JSON.stringify(value)}`);
  if (value.length > max || /[\p{Cc}]/u.test(value)) throw new InputError(field, `must be at most ${max} characters, without control characters; got ${JSON.stringify(value.slice(0, max + 20))}`);
  return value.trim();
}

/** An IANA time zone name (Europe/Paris, America/New_York, UTC), as the runtime knows them. */
export function validateTimezone(field: string, value: unknown): string {
  const zone = plainText(field, value, 100);
  try {
    // The canonical spelling: "europe/paris" is stored as Europe/Paris.
    return new Intl.DateTimeFormat("en-US", { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    throw new InputError(field, `must be an IANA time zone name like UTC, Europe/Paris or America/New_York; got ${JSON.stringify(zone)}`);
  }
}

/** A parsed expression in its time zone; gives the slots. */
export class CronSchedule {
  private readonly cron: Cron;
  private readonly wall: Intl.DateTimeFormat;

  private constructor(readonly expression: string, readonly timezone: string) {
    this.cron = new Cron(expression, { paused: true, mode: "5-part", timezone });
    this.wall = new Intl.DateTimeFormat("en-US", {
      timeZone: timezone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    });
  }

  /**
   * Checks `expression` (field `expression`) in `timezone` (field named by
   * `timezoneField`): an InputError saying what is allowed, or the schedule.
   * An expression that names no time at all (February 30) is refused too.
   */
  static parse(expression: unknown, timezone: unknown = "UTC", timezoneField = "timezone"): CronSchedule {
    const zone = validateTimezone(timezoneField, timezone);
    const text = plainText("expression", expression, 200).replace(/\s+/g, " ");
    if (text.startsWith("@") && !(ALIASES as readonly string[]).includes(text.toLowerCase())) {
      throw new InputError("expression", `must be ${ALLOWED}; got ${JSON.stringify(text)}`);
    }
    const fields = text.split(" ").length;
    if (!text.startsWith("@") && fields !== 5) {
      const why = fields > 5 ? "has seconds or years: slots are whole minutes, so" : "has too few fields: it";
      throw new InputError("expression", `${why} must be ${ALLOWED}; got ${JSON.stringify(text)}`);
    }
    let schedule: CronSchedule;
    try {
      schedule = new CronSchedule(text, zone);
    } catch (e: unknown) {
      const detail = (e as Error).message.replace(/^CronPattern: /, "");
      throw new InputError("expression", `must be ${ALLOWED}; got ${JSON.stringify(text)} (${detail})`);
    }
    if (schedule.nextSlot(new Date()) === null) {
      throw new InputError("expression", `names no time that will come (like February 30); got ${JSON.stringify(text)}`);
    }
    return schedule;
  }

  /** The first slot strictly after `after`, or null when there is none (croner looks ahead a few years). */
  nextSlot(after: Date): Date | null {
    let at: Date | null = this.cron.nextRun(after);
    for (let i = 0; at !== null && i < 8 && !this.isSlot(at); i++) at = this.cron.nextRun(at);
    return at !== null && this.isSlot(at) ? at : null;
  }

  /** The next `n` slots after `after`, soonest first. */
  nextSlots(n: number, after: Date): Date[] {
    const out: Date[] = [];
    let at: Date | null = after;
    while (out.length < n && (at = this.nextSlot(at)) !== null) out.push(at);
    return out;
  }

  /**
   * Up to `n` slots in [from, to] (both included), latest first: the slots
   * that are due at `to` and have not been handled since `from`.
   */
  latestSlots(n: number, from: Date, to: Date): Date[] {
    if (n <= 0 || from > to) return [];
    // previousRuns excludes a run at exactly its reference: one ms later includes `to` itself.
    const reference = new Date(to.getTime() + 1);
    // A handful more than asked: the ones that are no slot (a gap, a repeat) are dropped.
    return this.cron.previousRuns(n + 4, reference)
      .filter((at) => at >= from && at <= to && this.isSlot(at))
      .slice(0, n);
  }

  /** A time croner gave is a slot unless it was moved out of a gap, or is the second occurrence of its wall-clock time. */
  private isSlot(at: Date): boolean {
    if (!this.cron.match(at)) return false;
    const shown = this.wall.format(at);
    // Clocks go back by 30 minutes (Lord Howe), an hour, or two (Troll): an
    // earlier instant showing the same time means this is the repeat.
    return [30, 60, 120].every((minutes) => this.wall.format(new Date(at.getTime() - minutes * 60_000)) !== shown);
  }
}
