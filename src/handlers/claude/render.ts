// Claude's stream-json output as text for people, one line of the log at a
// time: what the assistant said, the tools it called (`→ Bash: ls`), their
// results cut short, API retries, and the final result with its cost. Pure:
// the caller reads the log file and prints. A line that is not a JSON event
// (a warning the CLI printed to stdout) is shown as it is.

const MAX_RESULT_LINES = 3;
const MAX_RESULT_CHARS = 300;
const MAX_INPUT_CHARS = 200;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown) => (typeof v === "string" ? v : null);

/** The text for one log line; null when the event is not worth showing (partial stream events). */
export function renderStreamLine(line: string): string | null {
  const trimmed = line.trimEnd();
  if (trimmed === "") return null;
  let event: unknown;
  try {
    event = JSON.parse(trimmed);
  } catch {
    return trimmed;
  }
  if (!isObj(event) || typeof event.type !== "string") return trimmed;
  switch (event.type) {
    case "system": return renderSystem(event);
    case "assistant": return renderContent(event, renderAssistantPart);
    case "user": return renderContent(event, renderToolResult);
    case "result": return renderResult(event);
    case "rate_limit_event": return `! rate limit: ${clip(JSON.stringify(event.rate_limit_info ?? event), MAX_INPUT_CHARS)}`;
    case "stream_event": return null;
    default: return `· ${event.type}: ${clip(trimmed, MAX_INPUT_CHARS)}`;
  }
}

function renderSystem(e: Obj): string {
  if (e.subtype === "init") {
    const parts = [`session ${str(e.session_id) ?? "?"}`, str(e.model), str(e.cwd) && `in ${e.cwd}`].filter(Boolean);
    return `● ${parts.join(" · ")}`;
  }
  if (e.subtype === "api_retry") {
    const what = [e.error_status, e.error].filter((v) => v !== undefined && v !== null).join(" ");
    return `! API retry ${e.attempt ?? "?"}/${e.max_retries ?? "?"} in ${e.retry_delay_ms ?? "?"}ms: ${what || "error"}`;
  }
  return `· system ${str(e.subtype) ?? ""}`.trimEnd();
}

function renderContent(e: Obj, part: (p: Obj) => string | null): string | null {
  const content = isObj(e.message) ? e.message.content : undefined;
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return null;
  const lines = content.filter(isObj).map(part).filter((l): l is string => l !== null);
  return lines.length > 0 ? lines.join("\n") : null;
}

function renderAssistantPart(p: Obj): string | null {
  if (p.type === "text") return str(p.text);
  if (p.type === "tool_use") return `→ ${str(p.name) ?? "tool"}: ${toolInput(p.input)}`;
  if (p.type === "thinking") return null;
  return null;
}

/** The one field that says what a tool call does, else its input as JSON. */
function toolInput(input: unknown): string {
  if (!isObj(input)) return clip(JSON.stringify(input) ?? "", MAX_INPUT_CHARS);
  for (const key of ["command", "file_path", "path", "pattern", "url", "query", "description", "prompt"]) {
    const v = str(input[key]);
    if (v !== null) return clip(v.replace(/\s*\n\s*/g, " ⏎ "), MAX_INPUT_CHARS);
  }
  return clip(JSON.stringify(input), MAX_INPUT_CHARS);
}

function renderToolResult(p: Obj): string | null {
  if (p.type !== "tool_result") return null;
  const c = p.content;
  const text = typeof c === "string" ? c
    : Array.isArray(c) ? c.filter(isObj).map((x) => str(x.text) ?? `[${str(x.type) ?? "content"}]`).join("\n")
    : "";
  const lines = text.replace(/\s+$/, "").split("\n");
  const shown = lines.slice(0, MAX_RESULT_LINES).map((l) => clip(l, MAX_RESULT_CHARS));
  const more = lines.length > MAX_RESULT_LINES ? [`… ${lines.length - MAX_RESULT_LINES} more lines`] : [];
  const mark = p.is_error === true ? "✗" : "←";
  return [...shown, ...more].map((l, i) => `  ${i === 0 ? mark : " "} ${l}`).join("\n");
}

function renderResult(e: Obj): string {
  const failed = e.is_error === true || (typeof e.subtype === "string" && e.subtype !== "success");
  const facts = [
    str(e.subtype) ?? "result",
    typeof e.num_turns === "number" ? `${e.num_turns} turns` : null,
    typeof e.duration_ms === "number" ? `${(e.duration_ms / 1000).toFixed(1)}s` : null,
    typeof e.total_cost_usd === "number" ? `$${e.total_cost_usd.toFixed(4)}` : null,
  ].filter(Boolean);
  const head = `${failed ? "✗" : "✓"} ${facts.join(" · ")}`;
  const text = str(e.result) ?? (Array.isArray(e.errors) ? e.errors.map(String).join("; ") : null);
  return text ? `${head}\n${text}` : head;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
