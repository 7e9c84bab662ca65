// Reading the CLI's stream-json output as it arrives: the events of interest,
// line by line over the bounded LineSplitter, and the run summary built from the events
// (session id, api retries, the LAST result line). The raw output goes to the
// log file elsewhere; nothing here keeps more than one line.

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
}

export function emptySummary(): ClaudeRunSummary {
  return {
    sessionId: null, model: null, subtype: null, isError: null, result: null, numTurns: null,
    durationMs: null, totalCostUsd: null, usage: null, errors: null, apiRetries: 0, lastApiError: null,
  };
}

const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);
const str = (v: unknown) => (typeof v === "string" ? v : null);

/** Folds one event into the summary. Returns true when it revealed the session id. */
export function applyEvent(s: ClaudeRunSummary, event: Record<string, unknown>): boolean {
  const hadSession = s.sessionId !== null;
  if (event.type === "system" && event.subtype === "init") {
    s.sessionId = str(event.session_id) ?? s.sessionId;
    s.model = str(event.model) ?? s.model;
  } else if (event.type === "system" && event.subtype === "api_retry") {
    s.apiRetries++;
    s.lastApiError = { status: num(event.error_status), error: str(event.error) };
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
  }
  return !hadSession && s.sessionId !== null;
}

// Only these lines are parsed: assistant/user lines can be megabytes of text
// and tool output, and JSON-escaping guarantees the pattern cannot appear
// inside a string value, only as a real key.
const INTERESTING = [Buffer.from('"type":"system"'), Buffer.from('"type":"result"')];

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
    else if (line.length > 0 && INTERESTING.some((p) => line.includes(p))) this.parse(line);
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
