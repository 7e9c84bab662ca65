// What one line of Claude's stream-json output says, for people: the entries
// both log views show (the `logs` command's text, the dashboard's HTML). This
// module owns the reading of events (which types, tool calls and results,
// init, retries, the final result); the views own layout, escaping and length
// limits. Pure: no I/O, and values are never cut here.

export type StreamKind =
  | "init" | "assistant" | "thinking" | "tool_call" | "tool_result" | "user"
  | "result" | "retry" | "rate_limit" | "system" | "other" | "raw";

interface EntryBase {
  /** A short heading: the tool's name, the result's facts, the system subtype, ... */
  label: string;
  /** The full text (assistant text, tool input, tool output, final answer); never cut. */
  body: string;
  isError: boolean;
}

/**
 * One thing a line says. A line can say several (an assistant message with text
 * and tool calls). `other` is a JSON event or block this module does not know;
 * `raw` is a line that is not a JSON event (a warning the CLI printed).
 */
export type StreamEntry =
  | (EntryBase & { kind: Exclude<StreamKind, "tool_call"> })
  | (EntryBase & {
    kind: "tool_call";
    /** One line: the input field that says what the call does (command, path, ...), else the input as JSON. */
    summary: string;
  });

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown) => (typeof v === "string" ? v : null);
const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** Input fields that say what a tool call does, most telling first. */
const SUMMARY_KEYS = ["command", "file_path", "path", "pattern", "url", "query", "description", "prompt"];

/** The entries of one stdout line; none for blank lines and partial-message stream events. */
export function describeStreamLine(line: string): StreamEntry[] {
  const trimmed = line.trim();
  if (trimmed === "") return [];
  let event: unknown;
  try {
    event = JSON.parse(trimmed);
  } catch {
    return [entry("raw", "output", trimmed)];
  }
  if (!isObj(event) || typeof event.type !== "string") return [entry("raw", "output", trimmed)];
  switch (event.type) {
    case "system": return [describeSystem(event)];
    case "assistant": return blocks(event).map(describeAssistantBlock);
    case "user": return blocks(event).map(describeUserBlock);
    case "result": return [describeResult(event)];
    case "rate_limit_event": return [entry("rate_limit", "rate limit", pretty(event.rate_limit_info ?? event))];
    // Token-by-token deltas (--include-partial-messages); the full message follows as `assistant`.
    case "stream_event": return [];
    default: return [entry("other", event.type, trimmed)];
  }
}

function entry(kind: Exclude<StreamKind, "tool_call">, label: string, body: string, isError = false): StreamEntry {
  return { kind, label, body, isError };
}

function describeSystem(e: Obj): StreamEntry {
  if (e.subtype === "init") {
    const parts = [`session ${str(e.session_id) ?? "?"}`, str(e.model), str(e.cwd) && `in ${e.cwd}`].filter(Boolean);
    return entry("init", "session started", parts.join(" · "));
  }
  if (e.subtype === "api_retry") {
    const what = [e.error_status, e.error].filter((v) => v !== undefined && v !== null).join(" ");
    return entry("retry", "API retry", `${e.attempt ?? "?"}/${e.max_retries ?? "?"} in ${e.retry_delay_ms ?? "?"}ms: ${what || "error"}`);
  }
  return entry("system", str(e.subtype) ?? "", pretty(e));
}

/** A message's content as blocks; a plain string content is one text block. */
function blocks(e: Obj): Obj[] {
  const content = isObj(e.message) ? e.message.content : undefined;
  if (typeof content === "string") return [{ type: "text", text: content }];
  return Array.isArray(content) ? content.filter(isObj) : [];
}

function describeAssistantBlock(b: Obj): StreamEntry {
  if (b.type === "text") return entry("assistant", "assistant", str(b.text) ?? "");
  if (b.type === "thinking") return entry("thinking", "thinking", str(b.thinking) ?? "");
  if (b.type === "tool_use") {
    return { kind: "tool_call", label: str(b.name) ?? "tool", body: toolInput(b.input), summary: toolSummary(b.input), isError: false };
  }
  return entry("other", `assistant: ${str(b.type) ?? "?"}`, pretty(b));
}

function describeUserBlock(b: Obj): StreamEntry {
  if (b.type === "tool_result") {
    const failed = b.is_error === true;
    return entry("tool_result", failed ? "tool error" : "tool result", resultText(b.content), failed);
  }
  if (b.type === "text") return entry("user", "user", str(b.text) ?? "");
  return entry("other", `user: ${str(b.type) ?? "?"}`, pretty(b));
}

/** A tool call's input in full: a shell command as `$ command`, a lone path as itself, else JSON. */
function toolInput(input: unknown): string {
  if (!isObj(input)) return pretty(input ?? "");
  const keys = Object.keys(input);
  if (typeof input.command === "string" && keys.every((k) => k === "command" || k === "description" || k === "timeout")) return `$ ${input.command}`;
  if (keys.length === 1 && typeof input.file_path === "string") return input.file_path;
  return pretty(input);
}

/** A tool call's input on one line: its most telling field, else compact JSON. */
function toolSummary(input: unknown): string {
  if (isObj(input)) {
    for (const key of SUMMARY_KEYS) {
      const v = str(input[key]);
      if (v !== null) return v.replace(/\s*\n\s*/g, " ⏎ ");
    }
  }
  return JSON.stringify(input) ?? "";
}

/** A tool_result's content: a string, or blocks of which text blocks give their text. */
function resultText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((c) => (isObj(c) ? str(c.text) ?? `[${str(c.type) ?? "content"}]` : pretty(c))).join("\n");
  return content === undefined || content === null ? "" : pretty(content);
}

/** The final result: label `success · 3 turns · 5.2s · $0.0171`, body the answer or the errors. */
function describeResult(e: Obj): StreamEntry {
  const failed = e.is_error === true || (typeof e.subtype === "string" && e.subtype !== "success");
  const turns = num(e.num_turns);
  const ms = num(e.duration_ms);
  const cost = num(e.total_cost_usd);
  // The CLI reports a failed run (not logged in, an API error) as subtype
  // "success" with is_error: name it an error, not a success.
  const subtype = str(e.subtype);
  const facts = [
    e.is_error === true && (subtype === null || subtype === "success") ? "error" : subtype ?? "result",
    turns === null ? null : `${turns} turns`,
    ms === null ? null : `${(ms / 1000).toFixed(1)}s`,
    cost === null ? null : `$${cost.toFixed(4)}`,
  ].filter(Boolean);
  const text = str(e.result) ?? (Array.isArray(e.errors) ? e.errors.map(String).join("; ") : "");
  return entry("result", facts.join(" · "), text, failed);
}

function pretty(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}
