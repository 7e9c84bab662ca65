// Reading the CLI's stream-json output as it arrives: a byte-level line
// splitter with a bounded buffer, and the run summary built from the events
// (session id, api retries, the LAST result line). The raw output goes to the
// log file elsewhere; nothing here keeps more than one line.

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
  private parts: Buffer[] = [];
  private size = 0;
  private skipping = false;
  skippedLines = 0;

  constructor(
    private readonly onEvent: (event: Record<string, unknown>) => void,
    private readonly maxLineBytes = 8 << 20,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      this.take(chunk.subarray(start, nl));
      this.flushLine();
      start = nl + 1;
    }
    if (start < chunk.length) this.take(chunk.subarray(start));
  }

  end(): void {
    if (this.size > 0 || this.skipping) this.flushLine();
  }

  private take(piece: Buffer): void {
    if (this.skipping || piece.length === 0) return;
    if (this.size + piece.length > this.maxLineBytes) {
      this.skipping = true;
      this.parts = [];
      this.size = 0;
      return;
    }
    this.parts.push(piece);
    this.size += piece.length;
  }

  private flushLine(): void {
    if (this.skipping) this.skippedLines++;
    else if (this.size > 0) {
      const line = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
      if (INTERESTING.some((p) => line.includes(p))) this.parse(line);
    }
    this.parts = [];
    this.size = 0;
    this.skipping = false;
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
