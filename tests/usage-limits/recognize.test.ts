// Recognizing a usage limit and its reset time, with the clock injected:
// the rate_limit_event's fields first, then the CLI's texts, then the
// configured wait; the park's delay and its jitter bound; the account key.

import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  accountKeyOf, formatResetTime, MAX_PARK_MS, MIN_PARK_MS, PARK_JITTER_MS, parkDelayMs, parkReason, parseResetText, recognizeUsageLimit,
} from "../../src/handlers/claude/usage-limit.ts";
import { decideOutcome, ClaudeUsageLimitError, ClaudeRunError, type ClaudeJobResult } from "../../src/handlers/claude/outcome.ts";
import { emptySummary } from "../../src/handlers/claude/stream.ts";

// 2026-12-01 17:30 UTC = 18:30 in Paris (CET, UTC+1).
const NOW = new Date("2026-12-01T17:30:00Z");
const HOUR = 3600_000;
const base = { now: NOW, fallbackMs: 30 * 60_000, localZone: "UTC" };

describe("what is a usage limit", () => {
  test("a rejected rate_limit_event gives its resetsAt (epoch seconds) and rateLimitType, before any text", () => {
    const resetsAt = Math.floor(NOW.getTime() / 1000) + 7200;
    const limit = recognizeUsageLimit({
      ...base, rateLimit: { status: "rejected", resetsAt, rateLimitType: "five_hour" }, texts: ["You've hit your limit · resets 8pm (Europe/Paris)"],
    });
    expect(limit).toEqual({ resetsAt: new Date(resetsAt * 1000), source: "rate_limit_event", zone: null, rateLimitType: "five_hour" });
  });

  test("an allowed_warning or a transient 429 is not a usage limit", () => {
    expect(recognizeUsageLimit({ ...base, rateLimit: { status: "allowed_warning", resetsAt: 1, rateLimitType: null }, texts: ["done"] })).toBeNull();
    expect(recognizeUsageLimit({ ...base, rateLimit: null, texts: ["API Error: Rate limit reached"] })).toBeNull();
    expect(recognizeUsageLimit({ ...base, rateLimit: null, texts: ["API Error: Request rejected (429)"] })).toBeNull();
  });

  test("\"Claude AI usage limit reached|<epoch>\" gives that epoch", () => {
    const limit = recognizeUsageLimit({ ...base, rateLimit: null, texts: ["Claude AI usage limit reached|1796151600"] });
    expect(limit).toMatchObject({ resetsAt: new Date(1796151600 * 1000), source: "text", zone: null });
  });

  test("\"resets 8pm (Europe/Paris)\" is the next 20:00 in Paris after the event", () => {
    const limit = recognizeUsageLimit({ ...base, rateLimit: null, texts: ["You've hit your limit · resets 8pm (Europe/Paris)"] });
    expect(limit).toMatchObject({ resetsAt: new Date("2026-12-01T19:00:00Z"), source: "text", zone: "Europe/Paris" });
    // After 20:00 in Paris, "8pm" is tomorrow's.
    const late = parseResetText("resets 8pm (Europe/Paris)", new Date("2026-12-01T19:30:00Z"), "UTC");
    expect(late).toEqual({ resetsAt: new Date("2026-12-02T19:00:00Z"), zone: "Europe/Paris" });
  });

  test("summer time is the zone's own: 8pm in Paris in July is 18:00 UTC", () => {
    expect(parseResetText("resets 8pm (Europe/Paris)", new Date("2026-07-10T10:00:00Z"), "UTC")!.resetsAt).toEqual(new Date("2026-07-10T18:00:00Z"));
  });

  test("a time with no zone is in the local zone; minutes, 24-hour times, 12am and a date are read", () => {
    expect(parseResetText("You've hit your session limit · resets 1pm", NOW, "America/New_York")).toEqual(
      { resetsAt: new Date("2026-12-01T18:00:00Z"), zone: null }); // 13:00 EST; it is 12:30 there
    expect(parseResetText("resets 8:30pm", NOW, "UTC")!.resetsAt).toEqual(new Date("2026-12-01T20:30:00Z"));
    expect(parseResetText("resets 21:15", NOW, "UTC")!.resetsAt).toEqual(new Date("2026-12-01T21:15:00Z"));
    expect(parseResetText("resets 12am", NOW, "UTC")!.resetsAt).toEqual(new Date("2026-12-02T00:00:00Z"));
    expect(parseResetText("resets Dec 3, 8pm (Europe/Paris)", NOW, "UTC")!.resetsAt).toEqual(new Date("2026-12-03T19:00:00Z"));
    expect(parseResetText("resets 13pm", NOW, "UTC")).toBeNull();
    expect(parseResetText("no time here", NOW, "UTC")).toBeNull();
  });

  test("an unknown zone falls back to the local one", () => {
    expect(parseResetText("resets 8pm (Mars/Olympus)", NOW, "UTC")).toEqual({ resetsAt: new Date("2026-12-01T20:00:00Z"), zone: null });
  });

  test("a usage limit with no time waits the configured wait", () => {
    const limit = recognizeUsageLimit({ ...base, rateLimit: null, texts: ["You've hit your limit"] });
    expect(limit).toEqual({ resetsAt: new Date(NOW.getTime() + 30 * 60_000), source: "fallback", zone: null, rateLimitType: null });
    const rejected = recognizeUsageLimit({ ...base, fallbackMs: HOUR, rateLimit: { status: "rejected", resetsAt: null, rateLimitType: "seven_day" }, texts: [] });
    expect(rejected).toEqual({ resetsAt: new Date(NOW.getTime() + HOUR), source: "fallback", zone: null, rateLimitType: "seven_day" });
  });
});

describe("how long a parked job waits", () => {
  test("until the reset plus a jitter below a minute", () => {
    const reset = new Date(NOW.getTime() + 2 * HOUR);
    expect(parkDelayMs(reset, NOW, () => 0)).toBe(2 * HOUR);
    expect(parkDelayMs(reset, NOW, () => 0.999999)).toBe(2 * HOUR + PARK_JITTER_MS - 1);
  });

  test("a reset in the past still waits a minute; one beyond a week waits a week", () => {
    expect(parkDelayMs(new Date(NOW.getTime() - HOUR), NOW, () => 0)).toBe(MIN_PARK_MS);
    expect(parkDelayMs(new Date(NOW.getTime() + 30 * 24 * HOUR), NOW, () => 0)).toBe(MAX_PARK_MS);
  });

  test("the reason names the time in the zone the CLI named, else the worker's", () => {
    const paris = recognizeUsageLimit({ ...base, rateLimit: null, texts: ["You've hit your limit · resets 8pm (Europe/Paris)"] })!;
    expect(parkReason(paris, NOW, "UTC")).toBe("waiting for the usage limit to reset at 20:00 (Europe/Paris)");
    const epoch = recognizeUsageLimit({ ...base, rateLimit: { status: "rejected", resetsAt: Date.parse("2026-12-01T20:00:00Z") / 1000, rateLimitType: null }, texts: [] })!;
    expect(parkReason(epoch, NOW, "UTC")).toBe("waiting for the usage limit to reset at 20:00 (UTC)");
    expect(formatResetTime(new Date("2026-12-03T20:00:00Z"), NOW, "UTC")).toBe("Dec 3 20:00");
  });
});

describe("the handler's outcome", () => {
  const ran = (fields: Partial<ClaudeJobResult>): ClaudeJobResult => ({
    ...emptySummary(), sessionId: "11111111-2222-4333-8444-555555555555", subtype: "success", isError: true, exitCode: 1, signal: null,
    stdoutLog: "/x.stdout.log", stderrLog: "/x.stderr.log", ...fields,
  });
  const usage = { now: NOW, fallbackMs: 30 * 60_000, random: () => 0.5, localZone: "UTC" };

  test("a usage limit parks the job until the reset, with the reason first in its message", () => {
    let e: unknown;
    try {
      decideOutcome({ result: ran({ result: "You've hit your limit · resets 8pm (Europe/Paris)", assistantError: "rate_limit" }), stderrTail: "", attempt: 1, usage });
    } catch (err: unknown) {
      e = err;
    }
    expect(e).toBeInstanceOf(ClaudeUsageLimitError);
    const park = e as ClaudeUsageLimitError;
    expect(park.message).toStartWith("waiting for the usage limit to reset at 20:00 (Europe/Paris): claude said");
    expect(park.delayMs).toBe(Date.parse("2026-12-01T19:00:00Z") - NOW.getTime() + PARK_JITTER_MS / 2);
  });

  test("the bare epoch marker as a successful-looking result (exit 0) is a usage limit too", () => {
    const r = ran({ result: "Claude AI usage limit reached|1796151600", isError: false, exitCode: 0 });
    expect(() => decideOutcome({ result: r, stderrTail: "", attempt: 1, usage })).toThrow(ClaudeUsageLimitError);
  });

  test("a transient rate limit is still a retry after a delay, not a park", () => {
    const r = ran({ result: "API Error: Request rejected (429)", assistantError: "rate_limit", apiErrorStatus: 429 });
    expect(() => decideOutcome({ result: r, stderrTail: "", attempt: 1, usage })).toThrow(ClaudeRunError);
  });
});

describe("the account key", () => {
  const home = realpathSync(mkdtempSync(join(tmpdir(), "usage-home-")));

  test("is a hash of the credential's source and the config folder: never the secret", () => {
    const a = accountKeyOf({ HOME: home, ANTHROPIC_API_KEY: "sk-ant-secret-one" });
    expect(a.key).toMatch(/^[0-9a-f]{64}$/);
    expect(a.label).toBe(`ANTHROPIC_API_KEY, ${home}/.claude`);
    expect(a.key + a.label).not.toContain("secret");
    // Another key in the same variable and folder: the same account, as far as the environment tells.
    expect(accountKeyOf({ HOME: home, ANTHROPIC_API_KEY: "sk-ant-secret-two" }).key).toBe(a.key);
  });

  test("differs with the source, the config folder, or an operator's account name", () => {
    const a = accountKeyOf({ HOME: home, ANTHROPIC_API_KEY: "k" }).key;
    expect(accountKeyOf({ HOME: home, CLAUDE_CODE_OAUTH_TOKEN: "t" }).key).not.toBe(a);
    expect(accountKeyOf({ HOME: home, ANTHROPIC_API_KEY: "k", CLAUDE_CONFIG_DIR: join(home, "other") }).key).not.toBe(a);
    expect(accountKeyOf({ HOME: home, ANTHROPIC_API_KEY: "k" }, "team-b").key).not.toBe(a);
  });

  test("a login's credentials file is its source", () => {
    const dir = join(home, "login");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, ".credentials.json"), "{}");
    expect(accountKeyOf({ HOME: home, CLAUDE_CONFIG_DIR: dir }).label).toBe(`.credentials.json, ${dir}`);
  });
});
