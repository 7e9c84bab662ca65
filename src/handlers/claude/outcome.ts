// Turning a finished Claude run into the handler's outcome: the result object
// when it succeeded, or the right error (retryable, retry-later, permanent)
// with a message that tells the user what happened and what to do.

import { formatDuration } from "../../duration.ts";
import { PermanentJobError, RetryJobError } from "../types.ts";
import type { ClaudeRunSummary } from "./stream.ts";

/** The job's result: the run summary plus how the process ended and where its logs are. */
export interface ClaudeJobResult extends ClaudeRunSummary {
  [key: string]: unknown;
  exitCode: number | null;
  signal: string | null;
  stdoutLog: string;
  stderrLog: string;
}

/**
 * A failed attempt that may succeed on retry; carries the run's summary as
 * `result`. A RetryJobError with no extra delay (the usual backoff applies),
 * because the executor keeps the `result` of its own error classes only: a
 * plain Error's result would be dropped and the job would not show what the
 * failed run said, cost, or which session to resume.
 */
export class ClaudeRunError extends RetryJobError {
  declare readonly result: ClaudeJobResult;
  constructor(message: string, result: ClaudeJobResult) {
    super(message, { delaySeconds: 0, result });
    this.name = "ClaudeRunError";
  }
}

export interface RunFacts {
  result: ClaudeJobResult;
  /** The last lines of the stderr log (bounded). */
  stderrTail: string;
  attempt: number;
  stoppedBy?: "abort" | "timeout";
  abortMessage?: string;
  timeoutMs?: number;
}

const ROOT_REFUSAL = /cannot be used with root\/sudo privileges/;
const CREDIT = /credit balance is too low/i;
const LIMITED = /\bRate limit\b|API Error: (?:429|529)\b|\bOverloaded\b|You(?:'|\u2019)ve hit your limit/i;
const USAGE_LIMIT = /You(?:'|\u2019)ve hit your limit/i;
// commander's messages for a command line it refuses, and the CLI's own checks of flag combinations.
const BAD_FLAGS = /^error: (?:unknown option|option '|missing required argument|too many arguments)|requires --verbose|Invalid session ID/m;

/** Returns the result to store, or throws the error that fails this attempt. */
export function decideOutcome(f: RunFacts): ClaudeJobResult {
  const r = f.result;
  if (f.stoppedBy === "abort") throw new ClaudeRunError(f.abortMessage ?? "the job was aborted", r);
  if (f.stoppedBy === "timeout") {
    throw new ClaudeRunError(`timed out after ${formatDuration(f.timeoutMs ?? 0)}; partial output in ${r.stdoutLog}`, r);
  }
  const sawResult = r.subtype !== null;
  if (r.exitCode === 0 && sawResult && !r.isError) return r;

  const reported = [r.result, ...(r.errors ?? [])].filter((t): t is string => !!t).join("; ");
  const said = [reported, f.stderrTail].filter(Boolean).join("\n");
  if (ROOT_REFUSAL.test(f.stderrTail)) {
    throw new PermanentJobError(
      "claude refused --dangerously-skip-permissions because the worker runs as root. Set IS_SANDBOX=1 in the " +
        "worker's environment (only inside a container or VM you can throw away), or run the worker as a non-root user.",
      { result: r },
    );
  }
  if (CREDIT.test(said)) {
    throw new PermanentJobError(
      `${reported || "the credit balance is too low"}. Add credits to the Anthropic account (or give the worker another ` +
        "API key or login), then retry the job.",
      { result: r },
    );
  }
  if (LIMITED.test(said)) {
    throw new RetryJobError(`claude hit a rate or usage limit: ${firstLine(reported || f.stderrTail)}`, {
      delaySeconds: limitDelaySeconds(f.attempt, USAGE_LIMIT.test(said)),
      result: r,
    });
  }
  if (!sawResult && r.exitCode === 1 && BAD_FLAGS.test(f.stderrTail)) {
    const line = f.stderrTail.split("\n").find((l) => BAD_FLAGS.test(l)) ?? f.stderrTail;
    throw new PermanentJobError(
      `claude rejected its command line: ${line.trim()}. This claude version does not support an option the ` +
        "payload asks for: upgrade Claude Code (claude update) or remove that option from the payload.",
      { result: r },
    );
  }
  // Running again with the same limits would spend the same again and stop at
  // the same place: let the user decide (raise the limit, or resume the session).
  if (r.subtype === "error_max_turns" || r.subtype === "error_max_budget_usd") {
    const what = r.subtype === "error_max_turns" ? "max_turns" : "max_budget_usd";
    throw new PermanentJobError(
      `claude stopped at the payload's ${what} limit (${reported || r.subtype}). Raise payload.${what}, or enqueue a ` +
        `job with payload.resume = "${r.sessionId}" to continue the session.`,
      { result: r },
    );
  }
  throw new ClaudeRunError(failureMessage(r, reported, f.stderrTail), r);
}

/**
 * How long to wait before retrying after a rate or usage limit. The CLI has
 * already retried the API call itself (up to 10 times over a few minutes), so
 * an immediate retry would meet the same limit and burn an attempt; start at
 * a minute and double per attempt. A subscription's usage limit ("You've hit
 * your limit · resets 1pm") lasts hours, so start at 30 minutes there.
 */
export function limitDelaySeconds(attempt: number, usageLimit: boolean): number {
  const base = usageLimit ? 1800 : 60;
  const cap = usageLimit ? 5 * 3600 : 3600;
  return Math.min(cap, base * 2 ** Math.max(0, Math.min(attempt - 1, 16)));
}

function failureMessage(r: ClaudeJobResult, reported: string, stderrTail: string): string {
  const how = r.signal !== null ? `was killed by ${r.signal}` : `exited with code ${r.exitCode}`;
  const why = r.isError
    ? `claude reported an error (${r.subtype}) and ${how}: ${reported || "no message"}`
    : r.subtype === null
      ? `claude ${how} without a result`
      : `claude ${how}`;
  const details = stderrTail ? `\n${stderrTail}` : r.isError ? "" : ` (stderr is empty; see ${r.stdoutLog})`;
  return bound(why + details);
}

const firstLine = (text: string) => bound(text.split("\n")[0] ?? "", 500);
const bound = (text: string, max = 4000) => (text.length > max ? `${text.slice(0, max)}…` : text);
