// Reading the CLI's stream-json output as it arrives: the events of interest,
// line by line over the bounded LineSplitter, and the run summary built from the events
// (session id, api retries, rate limit events, the last assistant line's
// error code, the LAST result line with its structured failure fields). The
// raw output goes to the log file elsewhere; nothing here keeps more than one
// line.

import { LineSplitter } from "./lines.ts";

/** What a run reported, in the shape stored as the job's result. */
export interface ClaudeRunSummary {
  sessionId: string | null;
  model: string | null;
  /** The last result event's subtype (success, error_max_turns, ...); null if none came. */
  subtype: string | null;
  isError: boolean | null;
  result: string | null;
  numTurns: number | null;
  durationMs: number | null;
  totalCostUsd: number | null;
  usage: Record<string, unknown> | null;
  errors: string[] | null;
  /** How many times the CLI retried an API call (429 rate limit, 529 overloaded, ...). */
  apiRetries: number;
  lastApiError: { status: number | null; error: string | null } | null;
  /**
   * The last result's structured failure fields, as the CLI names them:
   * `terminal_reason` (completed, max_turns, prompt_too_long, ...; 2.1.332
   * adds api_error), `api_error` (2.1.332: connection_failed, ...) and
   * `api_error_status` (the HTTP status, or null).
   */
  terminalReason: string | null;
  apiError: string | null;
  apiErrorStatus: number | null;
  /**
   * The `error` code of the last assistant line, set when that line is the
   * CLI's own message about a failed API call (authentication_failed,
   * billing_error, rate_limit, overloaded, invalid_request, model_not_found,
   * server_error, unknown, ...); null when the last assistant line had none.
   */
  assistantError: string | null;
  /** The last rate_limit_event: allowed, allowed_warning or rejected, and when the window resets (epoch seconds). */
  rateLimit: { status: string | null; resetsAt: number | null; rateLimitType: string | null } | null;
  /** The last allowed_warning rate_limit_event (the usage limit is near), kept when a later event says otherwise. */
  rateLimitWarning: { resetsAt: number | null; rateLimitType: string | null; utilization: number | null; at?: string } | null;
  /** Tools the permission mode refused (the last result's permission_denials), by name, at most 50. */
  permissionDenials: string[] | null;
}

export function emptySummary(): ClaudeRunSummary {
  return {
    sessionId: null, model: null, subtype: null, isError: null, result: null, numTurns: null,
    durationMs: null, totalCostUsd: null, usage: null, errors: null, apiRetries: 0, lastApiError: null,
    terminalReason: null, apiError: null, apiErrorStatus: null, assistantError: null, rateLimit: null,
    rateLimitWarning: null, permissionDenials: null,
  };
}

const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);
const str = (v: unknown) => (typeof v === "string" ? v : null);
const obj = (v: unknown) => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null);

/** Folds one event into the summary. Returns true when it revealed the session id. */
export function applyEvent(s: ClaudeRunSummary, event: Record<string, unknown>): boolean {
  const hadSession = s.sessionId !== null;
  if (event.type === "system" && event.subtype === "init") {
    s.sessionId = str(event.session_id) ?? s.sessionId;
    s.model = str(event.model) ?? s.model;
  } else if (event.type === "system" && event.subtype === "api_retry") {
    s.apiRetries++;
    s.lastApiError = { status: num(event.error_status), error: str(event.error) };
  } else if (event.type === "assistant") {
    // Only the CLI's own failure messages carry a top-level `error` (their
    // model is "<synthetic>"); any other assistant line clears it.
    s.assistantError = str(event.error);
  } else if (event.type === "rate_limit_event") {
    // 2.1.197 nests the fields in rate_limit_info; accept them at the top level too.
    const info = obj(event.rate_limit_info) ?? event;
    s.rateLimit = { status: str(info.status), resetsAt: num(info.resetsAt), rateLimitType: str(info.rateLimitType) };
    if (s.rateLimit.status === "allowed_warning") {
      s.rateLimitWarning = { resetsAt: s.rateLimit.resetsAt, rateLimitType: s.rateLimit.rateLimitType, utilization: num(info.utilization) };
    }
  } else if (event.type === "result") {
    // total_cost_usd is cumulative for the session: the last result wins, never sum.
    s.sessionId = str(event.session_id) ?? s.sessionId;
    s.subtype = str(event.subtype) ?? "unknown";
    s.isError = event.is_error === true;
    s.result = str(event.result);
    s.numTurns = num(event.num_turns);
    s.durationMs = num(event.duration_ms);
    s.totalCostUsd = num(event.total_cost_usd);
    s.usage = event.usage && typeof event.usage === "object" ? (event.usage as Record<string, unknown>) : null;
    s.errors = Array.isArray(event.errors) ? event.errors.map(String) : null;
    s.terminalReason = str(event.terminal_reason);
    s.apiError = str(event.api_error);
    s.apiErrorStatus = num(event.api_error_status);
    s.permissionDenials = Array.isArray(event.permission_denials) && event.permission_denials.length > 0
      ? event.permission_denials.slice(0, 50).map((d) => str(obj(d)?.tool_name) ?? "?")
      : null;
  }
  return !hadSession && s.sessionId !== null;
}

// Only these lines are parsed: assistant/user lines can be megabytes of text
// and tool output, and JSON-escaping guarantees the pattern cannot appear
// inside a string value, only as a real key (it may still be a nested
// object's key: then the parsed event just has another type).
const INTERESTING = [Buffer.from('"type":"system"'), Buffer.from('"type":"result"'), Buffer.from('"type":"rate_limit_event"')];
const ASSISTANT = Buffer.from('"type":"assistant"');
const ERROR_KEY = Buffer.from('"error":');
/** The CLI's failure messages are about a kilobyte; a longer assistant line is model output. */
const MAX_ERROR_LINE = 64 << 10;

/**
 * Splits a byte stream into lines and hands the interesting ones, parsed, to
 * `onEvent`. A line longer than `maxLineBytes` is skipped (it is still in the
 * log file) so that memory stays bounded whatever the CLI prints.
 */
export class EventLineReader {
  private readonly lines: LineSplitter;
  skippedLines = 0;

  constructor(
    private readonly onEvent: (event: Record<string, unknown>) => void,
    maxLineBytes = 8 << 20,
  ) {
    this.lines = new LineSplitter((line, truncated) => this.onLine(line, truncated), maxLineBytes);
  }

  push(chunk: Buffer): void {
    this.lines.push(chunk);
  }

  end(): void {
    this.lines.end();
  }

  private onLine(line: Buffer, truncated: boolean): void {
    if (truncated) this.skippedLines++;
    else if (line.length === 0) return;
    else if (INTERESTING.some((p) => line.includes(p))) this.parse(line);
    else if (line.includes(ASSISTANT)) {
      // Parsed only when it may carry the CLI's error code; otherwise it is
      // passed on as a bare {type:"assistant"} (which clears an earlier code).
      if (line.length <= MAX_ERROR_LINE && line.includes(ERROR_KEY)) this.parse(line);
      else this.onEvent({ type: "assistant" });
    }
  }

  private parse(line: Buffer): void {
    let event: unknown;
    try {
      event = JSON.parse(line.toString("utf8"));
    } catch {
      return; // not JSON (a warning printed to stdout, say): kept in the log only
    }
    if (event && typeof event === "object" && !Array.isArray(event)) this.onEvent(event as Record<string, unknown>);
  }
}
