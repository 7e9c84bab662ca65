// Duration flags end up in timers, which cannot hold more than MAX_TIMER_MS
// and fire after 1ms past it: every duration flag has an upper bound, exact
// and named in its error. (The CLI's exit code 2 for these is in
// help-and-errors.test.ts.)

import { describe, expect, test } from "bun:test";
import { MAX_INTERVAL_MS, MAX_TIMEOUT_MS, MAX_TIMER_MS, parseDuration } from "../../src/duration.ts";
import { InputError } from "../../src/errors.ts";
import { spec as workerSpec, workerSettings } from "../../src/cli/commands/worker.ts";
import { spec as serveSpec } from "../../src/cli/commands/serve.ts";
import { parseCommand } from "../../src/cli/options.ts";
import type { CliContext } from "../../src/cli/context.ts";

const ctx = { env: {}, config: {}, out() {}, err() {}, onSignal() {} } as unknown as CliContext;
const settings = (args: string[], spec = workerSpec) => workerSettings(ctx, parseCommand(spec, args, {}, {}).values);
const refusal = (f: () => unknown): string => {
  try {
    f();
  } catch (e: unknown) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error("was accepted");
};

describe("parseDuration bounds", () => {
  test("MAX_TIMER_MS is what a timer holds: one more ms fires at once", async () => {
    expect(MAX_TIMER_MS).toBe(2 ** 31 - 1);
    // The bug being bounded against: past the maximum, setTimeout fires after 1ms.
    const fired = await Promise.race([
      new Promise((r) => { const t = setTimeout(() => r("fired"), MAX_TIMER_MS + 1); t.unref?.(); }),
      Bun.sleep(200).then(() => "held"),
    ]);
    expect(fired).toBe("fired");
    const held = await new Promise((r) => {
      const t = setTimeout(() => r("fired"), MAX_TIMER_MS);
      setTimeout(() => { clearTimeout(t); r("held"); }, 200);
    });
    expect(held).toBe("held");
  });

  test("the flag bounds fit a timer, intervals with the worker's +10% jitter", () => {
    expect(MAX_TIMEOUT_MS).toBeLessThanOrEqual(MAX_TIMER_MS);
    expect(MAX_INTERVAL_MS * 1.1).toBeLessThanOrEqual(MAX_TIMER_MS);
  });

  test("max and min are inclusive; outside them the error names the field and the bound", () => {
    expect(parseDuration("x", "7d", { max: 7 * 86_400_000 })).toBe(7 * 86_400_000);
    expect(refusal(() => parseDuration("--x", "7d1ms", { max: 7 * 86_400_000 }))).toBe('--x: must be at most 7d; got "7d1ms"');
    expect(parseDuration("x", "1ms", { min: 1 })).toBe(1);
    expect(refusal(() => parseDuration("--x", "0s", { min: 1 }))).toBe('--x: must be at least 1ms; got "0s"');
    // Unbounded unless asked: run_at delays and payload timeouts are not flags' business.
    expect(parseDuration("x", "99999999h")).toBe(99999999 * 3_600_000);
  });
});

describe("the worker's duration flags", () => {
  const cases: [flag: string, bound: string, over: string][] = [
    ["--poll-interval", "7d", "7d1ms"],
    ["--rescue-interval", "7d", "7d1ms"],
    ["--shutdown-timeout", "24d", "24d1ms"],
    ["--job-timeout", "24d", "24d1ms"],
    ["--kill-grace", "24d", "24d1ms"],
  ];
  for (const [flag, bound, over] of cases) {
    test(`${flag} takes ${bound} and refuses ${over} and 99999999h`, () => {
      expect(() => settings([`${flag}=${bound}`])).not.toThrow();
      expect(refusal(() => settings([`${flag}=${over}`]))).toBe(`${flag}: must be at most ${bound}; got "${over}"`);
      expect(refusal(() => settings([`${flag}=99999999h`]))).toBe(`${flag}: must be at most ${bound}; got "99999999h"`);
    });
  }

  test("serve shares the worker's bounds", () => {
    expect(refusal(() => settings(["--poll-interval=8d"], serveSpec))).toBe('--poll-interval: must be at most 7d; got "8d"');
  });

  test("intervals and the job timeout must be longer than 0; a zero grace or shutdown timeout is allowed", () => {
    for (const flag of ["--poll-interval", "--rescue-interval", "--job-timeout"]) {
      expect(refusal(() => settings([`${flag}=0s`]))).toBe(`${flag}: must be at least 1ms; got "0s"`);
    }
    const s = settings(["--kill-grace=0s", "--shutdown-timeout=0s"]);
    expect({ grace: s.killGraceMs, shutdown: s.shutdownTimeoutMs }).toEqual({ grace: 0, shutdown: 0 });
  });
});
