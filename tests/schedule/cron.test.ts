// Cron expressions through croner, and the slot rule this program adds:
// wall-clock times in the schedule's zone, a time that does not exist is no
// slot, a time that occurs twice is one slot (its first occurrence).

import { describe, expect, test } from "bun:test";
import { CronSchedule, validateTimezone } from "../../src/schedule/cron.ts";
import { InputError } from "../../src/errors.ts";

const iso = (dates: Date[]) => dates.map((d) => d.toISOString());
const slots = (expression: string, timezone: string, after: string, n: number) =>
  iso(CronSchedule.parse(expression, timezone).nextSlots(n, new Date(after)));

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e: unknown) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error("expected an InputError");
}

describe("standard 5-field expressions", () => {
  test("ranges, lists, steps and names", () => {
    expect(slots("*/20 9-10 * * MON-FRI", "UTC", "2026-12-04T09:50:00Z", 4)).toEqual([
      "2026-12-04T10:00:00.000Z", "2026-12-04T10:20:00.000Z", "2026-12-04T10:40:00.000Z", "2026-12-07T09:00:00.000Z",
    ]);
    expect(slots("0 12 1,15 JAN,jul *", "UTC", "2026-06-01T00:00:00Z", 3)).toEqual([
      "2026-07-01T12:00:00.000Z", "2026-07-15T12:00:00.000Z", "2027-01-01T12:00:00.000Z",
    ]);
  });

  test("day of month and day of week together match either (as in Vixie cron)", () => {
    // The 13th, or any Friday.
    expect(slots("0 0 13 * FRI", "UTC", "2026-11-01T00:00:00Z", 3)).toEqual([
      "2026-11-06T00:00:00.000Z", "2026-11-13T00:00:00.000Z", "2026-11-20T00:00:00.000Z",
    ]);
  });

  test("@hourly-style aliases", () => {
    expect(slots("@hourly", "UTC", "2026-01-01T10:30:00Z", 2)).toEqual(["2026-01-01T11:00:00.000Z", "2026-01-01T12:00:00.000Z"]);
    expect(slots("@daily", "UTC", "2026-01-01T10:30:00Z", 1)).toEqual(["2026-01-02T00:00:00.000Z"]);
    expect(slots("@weekly", "UTC", "2026-01-01T10:30:00Z", 1)).toEqual(["2026-01-04T00:00:00.000Z"]);
    expect(slots("@monthly", "UTC", "2026-01-01T10:30:00Z", 1)).toEqual(["2026-02-01T00:00:00.000Z"]);
    expect(slots("@yearly", "UTC", "2026-01-01T10:30:00Z", 1)).toEqual(["2027-01-01T00:00:00.000Z"]);
  });

  test("a slot is in the schedule's time zone", () => {
    expect(slots("0 9 * * *", "Europe/Paris", "2026-01-10T00:00:00Z", 1)).toEqual(["2026-01-10T08:00:00.000Z"]);
    expect(slots("0 9 * * *", "America/New_York", "2026-07-10T00:00:00Z", 1)).toEqual(["2026-07-10T13:00:00.000Z"]);
  });

  test("the latest due slots, and only those after the first unhandled one", () => {
    const hourly = CronSchedule.parse("0 * * * *", "UTC");
    const now = new Date("2026-01-01T12:00:00Z");
    expect(iso(hourly.latestSlots(3, new Date("2026-01-01T00:00:00Z"), now))).toEqual([
      "2026-01-01T12:00:00.000Z", "2026-01-01T11:00:00.000Z", "2026-01-01T10:00:00.000Z",
    ]);
    expect(iso(hourly.latestSlots(5, new Date("2026-01-01T11:00:00Z"), now))).toEqual(["2026-01-01T12:00:00.000Z", "2026-01-01T11:00:00.000Z"]);
  });
});

describe("daylight saving time", () => {
  // Europe/Paris 2026: 29 March 02:00 CET -> 03:00 CEST; 25 October 03:00 CEST -> 02:00 CET.
  test("a daily slot at a time that does not exist that day is skipped (Paris, spring)", () => {
    expect(slots("30 2 * * *", "Europe/Paris", "2026-03-27T12:00:00Z", 3)).toEqual([
      "2026-03-28T01:30:00.000Z", // 02:30 CET
      // 29 March has no 02:30: no slot (croner alone would run at 03:00)
      "2026-03-30T00:30:00.000Z", // 02:30 CEST
      "2026-03-31T00:30:00.000Z",
    ]);
  });

  test("a daily slot in the repeated hour runs once, at its first occurrence (Paris, autumn)", () => {
    expect(slots("30 2 * * *", "Europe/Paris", "2026-10-24T12:00:00Z", 2)).toEqual([
      "2026-10-25T00:30:00.000Z", // 02:30 CEST; 02:30 CET an hour later is the same wall-clock time
      "2026-10-26T01:30:00.000Z", // 02:30 CET
    ]);
  });

  test("a daily slot in the repeated hour runs once (New York, autumn)", () => {
    // 1 November 2026 02:00 EDT -> 01:00 EST: 01:30 happens at 05:30Z and again at 06:30Z.
    expect(slots("30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", 2)).toEqual([
      "2026-11-01T05:30:00.000Z", // 01:30 EDT
      "2026-11-02T06:30:00.000Z", // 01:30 EST, the next day
    ]);
  });

  test("every 30 minutes: the skipped hour has no slots, the repeated hour one of each (New York)", () => {
    // 8 March 2026 02:00 EST -> 03:00 EDT.
    expect(slots("*/30 * * * *", "America/New_York", "2026-03-08T06:15:00Z", 3)).toEqual([
      "2026-03-08T06:30:00.000Z", // 01:30 EST
      "2026-03-08T07:00:00.000Z", // 03:00 EDT (02:00 and 02:30 do not exist)
      "2026-03-08T07:30:00.000Z", // 03:30 EDT
    ]);
    // 1 November 2026 02:00 EDT -> 01:00 EST: 01:00 and 01:30 happen twice.
    expect(slots("*/30 * * * *", "America/New_York", "2026-11-01T04:45:00Z", 4)).toEqual([
      "2026-11-01T05:00:00.000Z", // 01:00 EDT
      "2026-11-01T05:30:00.000Z", // 01:30 EDT
      // 01:00 EST and 01:30 EST (06:00Z, 06:30Z) are repeats: no slots
      "2026-11-01T07:00:00.000Z", // 02:00 EST
      "2026-11-01T07:30:00.000Z",
    ]);
  });

  test("looking back over a transition applies the same rule", () => {
    const hourly = CronSchedule.parse("0 * * * *", "America/New_York");
    const due = hourly.latestSlots(10, new Date("2026-11-01T03:30:00Z"), new Date("2026-11-01T07:00:00Z"));
    // 00:00 EDT, 01:00 EDT, (01:00 EST repeat), 02:00 EST
    expect(iso(due)).toEqual(["2026-11-01T07:00:00.000Z", "2026-11-01T05:00:00.000Z", "2026-11-01T04:00:00.000Z"]);
  });
});

describe("bad input is an InputError naming the field and what is allowed", () => {
  test.each([
    ["61 * * * *", /expression: must be a 5-field cron expression .*"61 \* \* \* \*" \(Invalid value for minute: 61\)/],
    ["every hour", /expression: has too few fields: it must be a 5-field cron expression/],
    ["0 0 * * * *", /expression: has seconds or years: slots are whole minutes, so must be a 5-field/],
    ["@reboot", /expression: must be .* @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly; got "@reboot"/],
    ["0 0 30 2 *", /expression: names no time that will come/],
    ["", /expression: must be a non-empty string/],
    ["0 0 * * *\u001b[2J", /expression: must be at most 200 characters, without control characters/],
  ])("%p", (expression, message) => {
    expect(inputError(() => CronSchedule.parse(expression, "UTC")).message).toMatch(message);
    expect(inputError(() => CronSchedule.parse(expression, "UTC")).field).toBe("expression");
  });

  test("a time zone that does not exist names the flag the caller gives", () => {
    const e = inputError(() => CronSchedule.parse("0 * * * *", "Europe/Atlantis", "--timezone"));
    expect(e.field).toBe("--timezone");
    expect(e.message).toBe('--timezone: must be an IANA time zone name like UTC, Europe/Paris or America/New_York; got "Europe/Atlantis"');
  });

  test("time zones are stored in their canonical spelling", () => {
    expect(validateTimezone("timezone", "europe/paris")).toBe("Europe/Paris");
    expect(validateTimezone("timezone", "UTC")).toBe("UTC");
  });
});
