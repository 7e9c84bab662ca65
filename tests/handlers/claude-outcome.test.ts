// decideOutcome on run summaries as the stream reader builds them (no
// process): the CLI's structured fields decide before any text is matched,
// and the delays after the CLI's own retries are minutes, not seconds. The
// summaries are the shapes Claude Code prints (2.1.197 as run by
// tests/contract/real-claude.test.ts; 2.1.332's as recorded in
// /work/shared/claude-cli.md).

import { describe, expect, test } from "bun:test";
import { ClaudeRunError, decideOutcome, type ClaudeJobResult } from "../../src/handlers/claude/outcome.ts";
import { applyEvent, emptySummary } from "../../src/handlers/claude/stream.ts";
import { PermanentJobError, RetryJobError } from "../../src/handlers/types.ts";

/** The summary of a run that printed these events and exited with this code. */
function ran(events: Record<string, unknown>[], exitCode = 1): ClaudeJobResult {
  const s = emptySummary();
  for (const e of events) applyEvent(s, { session_id: "5b0c7a52-1d64-4b0e-9d8a-0d6f3f0f7a11", ...e });
  return { ...s, exitCode, signal: null, stdoutLog: "/logs/x.stdout.log", stderrLog: "/logs/x.stderr.log" };
}

const init = { type: "system", subtype: "init", model: "claude-sonnet-4-6" };
const synthetic = (text: string, error: string) =>
  ({ type: "assistant", message: { model: "<synthetic>", content: [{ type: "text", text }] }, error });
const failedResult = (text: string, fields: Record<string, unknown> = {}) =>
  ({ type: "result", subtype: "success", is_error: true, result: text, num_turns: 1, total_cost_usd: 0, ...fields });
const retry = (status: number | null, error: string) => ({ type: "system", subtype: "api_retry", error_status: status, error });

function outcome(result: ClaudeJobResult, extra: { stderrTail?: string; attempt?: number } = {}): Error & { delaySeconds?: number } {
  try {
    decideOutcome({ result, stderrTail: extra.stderrTail ?? "", attempt: extra.attempt ?? 1, configDir: "/home/w/.claude" });
  } catch (e: unknown) {
    return e as Error;
  }
  throw new Error("expected the run to fail");
}

describe("the structured fields decide before any text", () => {
  test("authentication_failed whatever the text says: permanent, with what a worker needs", () => {
    const e = outcome(ran([init, synthetic("OAuth token revoked · Please re-authenticate", "authentication_failed"),
      failedResult("OAuth token revoked · Please re-authenticate")]));
    expect(e).toBeInstanceOf(PermanentJobError);
    expect(e.message).toContain('"OAuth token revoked · Please re-authenticate"');
    expect(e.message).toContain("ANTHROPIC_API_KEY");
    expect(e.message).toContain("the login is kept in /home/w/.claude");
  });

  test("a rate_limit code with a text no pattern knows is a rate limit: a minute, doubling", () => {
    const text = "API Error: Server is temporarily limiting requests (not your usage limit) · try again shortly";
    const r = ran([init, synthetic(text, "rate_limit"), failedResult(text, { api_error_status: null })]);
    const e = outcome(r, { attempt: 2 });
    expect(e).toBeInstanceOf(ClaudeRunError);
    expect(e.delaySeconds).toBe(120);
  });

  test("billing_error with any text is permanent", () => {
    const e = outcome(ran([init, synthetic("Your organization is out of usage credits", "billing_error"), failedResult("Your organization is out of usage credits")]));
    expect(e).toBeInstanceOf(PermanentJobError);
    expect(e.message).toContain("Add credits");
  });

  test("model_not_found is permanent and names payload.model", () => {
    const text = "There's an issue with the selected model (claude-nope). It may not exist or you may not have access to it.";
    const e = outcome(ran([init, synthetic(text, "model_not_found"), failedResult(text, { api_error_status: 404 })]));
    expect(e).toBeInstanceOf(PermanentJobError);
    expect(e.message).toContain("Set payload.model");
  });

  test("a rejected rate_limit_event waits until its resetsAt (plus a minute)", () => {
    const resetsAt = Math.floor(Date.now() / 1000) + 7200;
    const r = ran([init, { type: "rate_limit_event", rate_limit_info: { status: "rejected", resetsAt, rateLimitType: "seven_day" } },
      synthetic("You've hit your weekly limit", "rate_limit"), failedResult("You've hit your weekly limit")]);
    const e = outcome(r) as RetryJobError;
    expect(e.delaySeconds).toBeGreaterThanOrEqual(7200 + 58);
    expect(e.delaySeconds).toBeLessThanOrEqual(7200 + 61);
  });

  test("an allowed_warning rate_limit_event is no failure of its own", () => {
    const r = ran([init, { type: "rate_limit_event", rate_limit_info: { status: "allowed_warning", resetsAt: 1 } },
      { type: "result", subtype: "success", is_error: false, result: "done" }], 0);
    expect(decideOutcome({ result: r, stderrTail: "", attempt: 1 })).toBe(r);
  });

  test("2.1.332 offline: api_error connection_failed waits 5 minutes, then 10", () => {
    const text = "API Error: Can't reach the API server (api.anthropic.com). Check your connection.";
    const events = [init, ...Array.from({ length: 10 }, () => retry(null, "unknown")),
      failedResult(text, { terminal_reason: "api_error", api_error: "connection_failed", api_error_status: null })];
    const first = outcome(ran(events));
    expect(first).toBeInstanceOf(ClaudeRunError);
    expect(first.message).toStartWith("claude could not reach the Anthropic API (connection_failed) although it retried 10 times by itself");
    expect(first.delaySeconds).toBe(300);
    expect(outcome(ran(events), { attempt: 2 }).delaySeconds).toBe(600);
    expect(outcome(ran(events), { attempt: 9 }).delaySeconds).toBe(3600);
  });

  test("a server error after the CLI's own retries waits minutes; one without retries gets the usual backoff", () => {
    const text = "API Error: Internal server error. This is a server-side issue, usually temporary";
    const retried = outcome(ran([init, retry(500, "server_error"), retry(500, "server_error"), synthetic(text, "server_error"),
      failedResult(text, { api_error_status: 500 })]));
    expect(retried).toBeInstanceOf(ClaudeRunError);
    expect(retried.delaySeconds).toBe(60);
    expect(retried.message).toContain("claude reported an error (server_error) and exited with code 1");
    const once = outcome(ran([init, synthetic(text, "server_error"), failedResult(text, { api_error_status: 500 })]));
    expect(once.delaySeconds).toBe(0);
  });
});

describe("texts, when no field says", () => {
  test("a usage limit known by its text only waits half an hour", () => {
    const e = outcome(ran([init, failedResult("Claude AI usage limit reached|1767225600")]));
    expect(e).toBeInstanceOf(RetryJobError);
    expect(e.delaySeconds).toBe(1800);
  });

  test("an answer that looks like success is never read as a failure's text", () => {
    // Exit 1 after a successful result: the answer mentions a login and a rate limit; neither is the failure.
    const r = ran([init, { type: "result", subtype: "success", is_error: false, result: "Done: the page now says Please run /login on Rate limit" }]);
    const e = outcome(r);
    expect(e).toBeInstanceOf(ClaudeRunError);
    expect(e.delaySeconds).toBe(0);
    expect(e.message).toStartWith("claude exited with code 1");
  });

  test("stderr lines repeating the result's errors are not shown twice", () => {
    const r = ran([{ type: "result", subtype: "error_during_execution", is_error: true, num_turns: 0, errors: ["Something odd happened"] }]);
    const e = outcome(r, { stderrTail: "Something odd happened\nand a detail" });
    expect(e.message).toBe("claude reported an error (error_during_execution) and exited with code 1: Something odd happened\nand a detail");
  });
});
