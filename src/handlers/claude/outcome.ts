// Turning a finished Claude run into the handler's outcome: the result object
// when it succeeded, or the right error (retryable, retry-later, permanent)
// with a message that tells the user what happened and what to do.

import { formatDuration } from "../../duration.ts";
import { ParkJobError, PermanentJobError, RetryJobError } from "../types.ts";
import type { ClaudeRunSummary } from "./stream.ts";
import { parkDelayMs, parkReason, recognizeUsageLimit, type UsageLimit } from "./usage-limit.ts";

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
 * `result`. A RetryJobError, because the executor keeps the `result` of its
 * own error classes only: a plain Error's result would be dropped and the job
 * would not show what the failed run said, cost, or which session to resume.
 * With no delay the usual backoff applies; a delay makes the retry wait at
 * least that long.
 */
export class ClaudeRunError extends RetryJobError {
  declare readonly result: ClaudeJobResult;
  constructor(message: string, result: ClaudeJobResult, delaySeconds = 0) {
    super(message, { delaySeconds, result });
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
  /** Where the CLI keeps its login and sessions for this worker: $CLAUDE_CONFIG_DIR, else $HOME/.claude. */
  configDir?: string;
  /** The payload's permission mode, when it set one (then no --dangerously-skip-permissions was passed). */
  permissionMode?: string;
  /**
   * Given, a usage limit parks the job (ClaudeUsageLimitError) until the
   * reset instead of retrying it after a delay. The clock and the jitter's
   * randomness are injected.
   */
  usage?: { now: Date; fallbackMs: number; random?: () => number; localZone?: string };
}

/**
 * The run hit the account's usage limit: the job goes back to the queue until
 * the reset (plus a jitter), its attempt not counted, and its result keeps
 * `usageLimit` (when, why, the session the next attempt resumes).
 */
export class ClaudeUsageLimitError extends ParkJobError {
  declare readonly result: ClaudeJobResult;
  constructor(readonly reason: string, said: string, result: ClaudeJobResult, delayMs: number, readonly limit: UsageLimit) {
    const message = `${reason}: claude said ${said}`;
    super(message, { delayMs, result });
    this.name = "ClaudeUsageLimitError";
  }
}

/** The CLI found no session to --resume (in this HOME and cwd). */
export function sessionMissing(r: Pick<ClaudeRunSummary, "subtype" | "errors">): boolean {
  return r.subtype === "error_during_execution" && (r.errors ?? []).some((e) => NO_SESSION.test(e));
}

/** A result whose whole text is the CLI's usage-limit marker is no answer, whatever the exit code. */
const USAGE_MARKER_RESULT = /^\s*Claude AI usage limit reached\|\d+\s*$/i;

// Texts, for what the CLI reports without a structured field (a refusal
// before it starts, older versions), matched only after the fields.
const ROOT_REFUSAL = /cannot be used with root\/sudo privileges/;
const CREDIT = /credit balance is too low/i;
const NOT_LOGGED_IN = /Not logged in|Please run \/login|Invalid API key|OAuth token has expired/i;
const LIMITED = /\bRate limit\b|API Error: (?:429|529)\b|\bOverloaded\b|You(?:'|\u2019)ve hit your (?:session )?limit|usage limit reached/i;
const USAGE_LIMIT = /You(?:'|\u2019)ve hit your (?:session )?limit|usage limit reached/i;
const UNREACHABLE = /Unable to connect to API|Can(?:'|\u2019)t reach the API server/i;
const NO_SESSION = /^(?:Error: )?(?:No conversation found with session ID|--resume requires a valid session ID)/;
// commander's messages for a command line it refuses, and the CLI's own checks of flags and their combinations.
const BAD_FLAGS = /^error: (?:unknown option|option '|missing required argument|too many arguments|--[a-z-]+ must be)|requires --verbose|Invalid session ID/m;

/** The assistant lines' `error` codes (2.1.197's list) that no retry can pass. */
const AUTH_ERRORS = new Set(["authentication_failed", "oauth_org_not_allowed"]);
const LIMIT_ERRORS = new Set(["rate_limit", "overloaded"]);

/** What a failed run was, before it is worded. */
type Failure = "auth" | "credit" | "no_session" | "model" | "limit" | "turns" | "budget" | "unreachable";

/**
 * From the CLI's structured fields only: the result's subtype, errors,
 * api_error and api_error_status, the last assistant line's error code, the
 * last rate_limit_event, the api_retry lines.
 */
function fromFields(r: ClaudeJobResult): Failure | null {
  const code = r.assistantError;
  if ((code !== null && AUTH_ERRORS.has(code)) || r.apiErrorStatus === 401) return "auth";
  if (code === "billing_error") return "credit";
  if (r.subtype === "error_during_execution" && (r.errors ?? []).some((e) => NO_SESSION.test(e))) return "no_session";
  if (code === "model_not_found") return "model";
  if ((code !== null && LIMIT_ERRORS.has(code)) || r.rateLimit?.status === "rejected" || r.apiErrorStatus === 429 ||
    r.apiErrorStatus === 529) return "limit";
  if (r.subtype === "error_max_turns") return "turns";
  if (r.subtype === "error_max_budget_usd") return "budget";
  // The CLI retries a failed API call by itself, for minutes: when it gave up
  // with no HTTP status at all, the API could not be reached.
  if (r.apiError === "connection_failed") return "unreachable";
  if (r.apiError === null && r.apiRetries > 0 && r.lastApiError?.status === null && r.apiErrorStatus === null) return "unreachable";
  return null;
}

/** From the texts, when no field said (older versions, or texts the fields do not cover). */
function fromText(said: string): Failure | null {
  if (NOT_LOGGED_IN.test(said)) return "auth";
  if (CREDIT.test(said)) return "credit";
  if (LIMITED.test(said)) return "limit";
  if (UNREACHABLE.test(said)) return "unreachable";
  return null;
}

/** Returns the result to store, or throws the error that fails this attempt. */
export function decideOutcome(f: RunFacts): ClaudeJobResult {
  const r = f.result;
  if (f.stoppedBy === "abort") throw new ClaudeRunError(f.abortMessage ?? "the job was aborted", r);
  if (f.stoppedBy === "timeout") {
    throw new ClaudeRunError(`timed out after ${formatDuration(f.timeoutMs ?? 0)}; partial output in ${r.stdoutLog}`, r);
  }
  const sawResult = r.subtype !== null;
  const marker = USAGE_MARKER_RESULT.test(r.result ?? "");
  if (r.exitCode === 0 && sawResult && !r.isError && !marker) return r;

  const reported = [...new Set([r.result, ...(r.errors ?? [])].filter((t): t is string => !!t))].join("; ");
  // stderr often repeats what the result said (an unknown session): only what it adds.
  const stderr = withoutRepeats(f.stderrTail, reported);
  // What texts are matched against: a run that ended with a successful-looking
  // result (and a failing exit code) said nothing about its failure there; its
  // answer could mention anything.
  const said = [r.isError === false && !marker ? "" : reported, f.stderrTail].filter(Boolean).join("\n");
  const quoted = (fallback: string) => JSON.stringify(firstLine(reported || stderr || fallback));
  const configDir = f.configDir ?? "~/.claude";

  // Refused before it started: nothing on stdout, one line on stderr.
  if (!sawResult && ROOT_REFUSAL.test(f.stderrTail)) {
    const asked = f.permissionMode === "bypassPermissions" ? "payload.permission_mode bypassPermissions" : "--dangerously-skip-permissions";
    throw new PermanentJobError(
      `claude refused ${asked} because the worker runs as root. Set IS_SANDBOX=1 in the worker's environment (only ` +
        "inside a container or VM you can throw away), run the worker as a non-root user, or give the job a " +
        "payload.permission_mode other than bypassPermissions (e.g. acceptEdits).",
      { result: r },
    );
  }
  if (!sawResult && r.exitCode === 1 && BAD_FLAGS.test(f.stderrTail)) {
    const line = f.stderrTail.split("\n").find((l) => BAD_FLAGS.test(l)) ?? f.stderrTail;
    throw new PermanentJobError(
      `claude rejected its command line: ${line.trim()}. This claude version does not support an option the ` +
        "payload asks for: upgrade Claude Code (claude update) or remove that option from the payload.",
      { result: r },
    );
  }

  switch (fromFields(r) ?? fromText(said)) {
    case "auth":
      throw new PermanentJobError(
        `claude cannot authenticate for this worker: ${quoted("not logged in")}. The worker runs claude headless, so ` +
          "nobody can log in when it asks: set ANTHROPIC_API_KEY (or CLAUDE_CODE_OAUTH_TOKEN, from `claude setup-token`) " +
          "in the worker's environment, or log in once as the user the worker runs as, with the same HOME (run " +
          `\`claude\`, then /login; the login is kept in ${configDir}), then retry the job.`,
        { result: r },
      );
    case "credit":
      throw new PermanentJobError(
        `${reported || "the credit balance is too low"}. Add credits to the Anthropic account (or give the worker another ` +
          "API key or login), then retry the job.",
        { result: r },
      );
    case "no_session":
      throw new PermanentJobError(
        `claude found no session ${r.sessionId ?? ""} to resume (payload.resume): ${quoted("no conversation found")}. ` +
          `Sessions are saved under the HOME of the user that ran them (${configDir}/projects/<cwd>/<session>.jsonl), ` +
          "per directory: a session resumes only on a worker that runs as that user with that HOME (or " +
          "CLAUDE_CONFIG_DIR), in the same cwd. Enqueue it where the session was made, or without payload.resume.",
        { result: r },
      );
    case "model":
      throw new PermanentJobError(
        `the API does not know the model: ${quoted("model not found")}. Set payload.model to a model this account ` +
          "can use (an alias such as sonnet or opus, or a full model id), then enqueue the job again.",
        { result: r },
      );
    case "limit": {
      const usage = f.usage && recognizeUsageLimit({
        rateLimit: r.rateLimit, texts: [said], now: f.usage.now, fallbackMs: f.usage.fallbackMs, localZone: f.usage.localZone,
      });
      if (usage && f.usage) {
        const reason = parkReason(usage, f.usage.now, f.usage.localZone);
        throw new ClaudeUsageLimitError(reason, quoted("usage limit reached"), r,
          parkDelayMs(usage.resetsAt, f.usage.now, f.usage.random), usage);
      }
      const rejected = r.rateLimit?.status === "rejected";
      const untilReset = rejected ? secondsUntil(r.rateLimit?.resetsAt ?? null) : null;
      const delaySeconds = untilReset ?? limitDelaySeconds(f.attempt, rejected || USAGE_LIMIT.test(said));
      throw new ClaudeRunError(
        `claude hit a rate or usage limit: ${firstLine(reported || stderr || r.assistantError || "rate limited")}` +
          (untilReset !== null ? ` (the limit resets at ${new Date(r.rateLimit!.resetsAt! * 1000).toISOString()})` : ""),
        r, delaySeconds,
      );
    }
    // Running again with the same limits would spend the same again and stop at
    // the same place: let the user decide (raise the limit, or resume the session).
    case "turns":
    case "budget": {
      const what = r.subtype === "error_max_turns" ? "max_turns" : "max_budget_usd";
      throw new PermanentJobError(
        `claude stopped at the payload's ${what} limit (${reported || r.subtype}). Raise payload.${what}, or enqueue a ` +
          `job with payload.resume = "${r.sessionId}" to continue the session.`,
        { result: r },
      );
    }
    case "unreachable": {
      const delaySeconds = unreachableDelaySeconds(f.attempt);
      const retried = r.apiRetries > 0 ? ` although it retried ${r.apiRetries} times by itself` : "";
      throw new ClaudeRunError(
        `claude could not reach the Anthropic API (${r.apiError ?? "no response"})${retried}: ${quoted("connection failed")}. ` +
          "Check the worker host's network, DNS and proxy (HTTPS_PROXY); the job is retried in " +
          `${formatDuration(delaySeconds * 1000)} at the earliest.`,
        r, delaySeconds,
      );
    }
    case null: {
      // Any other failure after the CLI's own retries (a 5xx for minutes): an
      // immediate retry would meet the same; wait minutes, not seconds.
      const delaySeconds = r.apiRetries > 0 ? limitDelaySeconds(f.attempt, false) : 0;
      throw new ClaudeRunError(failureMessage(r, reported, stderr), r, delaySeconds);
    }
  }
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

/**
 * After the CLI spent about three minutes failing to reach the API: 5
 * minutes, doubling per attempt, at most an hour. A network that is down
 * rarely comes back within the seconds of the usual backoff.
 */
export function unreachableDelaySeconds(attempt: number): number {
  return Math.min(3600, 300 * 2 ** Math.max(0, Math.min(attempt - 1, 16)));
}

/** Seconds from now until an epoch-seconds reset time, plus a minute; null if unknown or past. At most a week. */
function secondsUntil(resetsAt: number | null, now = Date.now()): number | null {
  if (resetsAt === null) return null;
  const seconds = Math.ceil(resetsAt - now / 1000);
  return seconds > 0 ? Math.min(seconds + 60, 7 * 24 * 3600) : null;
}

function parenthesized(parts: (string | null | undefined)[]): string {
  const known = parts.filter(Boolean);
  return known.length === 0 ? "" : ` (${known.join(", ")})`;
}

function failureMessage(r: ClaudeJobResult, reported: string, stderr: string): string {
  const how = r.signal !== null ? `was killed by ${r.signal}` : `exited with code ${r.exitCode}`;
  const why = r.isError
    // "success" is what the CLI calls the subtype of many failed runs (is_error): not worth saying.
    ? `claude reported an error${parenthesized([r.subtype === "success" ? null : r.subtype, r.terminalReason, r.apiError, r.assistantError])} and ${how}: ${reported || "no message"}`
    : r.subtype === null
      ? `claude ${how} without a result`
      : `claude ${how}`;
  const details = stderr ? `\n${stderr}` : r.isError ? "" : ` (stderr is empty; see ${r.stdoutLog})`;
  return bound(why + details);
}

/** The stderr tail less its lines that the reported text already says. */
function withoutRepeats(stderrTail: string, reported: string): string {
  if (!reported) return stderrTail;
  return stderrTail.split("\n").filter((l) => l.trim() === "" || !reported.includes(l.trim())).join("\n").trim();
}

const firstLine = (text: string) => bound(text.split("\n")[0] ?? "", 500);
const bound = (text: string, max = 4000) => (text.length > max ? `${text.slice(0, max)}…` : text);
