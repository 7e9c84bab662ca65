/** @jsxImportSource @kitajs/html */
// Claude's stream-json output, rendered readably: assistant text, tool calls
// (name and input), tool results (error or not), the init and result lines;
// anything else shows as its raw line. One renderer serves the stored logs
// and the live tail (SSE sends each line's HTML). Every value is escaped;
// long values are cut so one huge tool result cannot swamp the page.

import { esc } from "./format.ts";

const MAX_TEXT = 20_000;

function cut(text: string, max = MAX_TEXT): string {
  return text.length > max ? `${text.slice(0, max)}\n… (${text.length - max} more characters; see the raw log)` : text;
}

function pretty(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Text of a tool_result's content: a string, or an array of {type:"text"} blocks. */
function resultText(content: unknown): string {
  if (Array.isArray(content)) {
    return content.map((c) => (c && typeof c === "object" && typeof (c as { text?: unknown }).text === "string" ? (c as { text: string }).text : pretty(c))).join("\n");
  }
  return pretty(content ?? "");
}

function item(kind: string, label: string, body: string, extra = ""): string {
  return `<div class="ev ev-${kind}"><div class="ev-label">${esc(label)}${extra}</div><pre class="ev-body">${esc(cut(body))}</pre></div>`;
}

/** A tool call's input: a shell command as `$ command`, a lone path as itself, else JSON. */
function toolInput(input: unknown): string {
  if (!input || typeof input !== "object") return pretty(input ?? "");
  const o = input as Record<string, unknown>;
  const keys = Object.keys(o);
  if (typeof o.command === "string" && keys.every((k) => k === "command" || k === "description" || k === "timeout")) return `$ ${o.command}`;
  if (keys.length === 1 && typeof o.file_path === "string") return o.file_path;
  return pretty(o);
}

/** One stdout line as HTML (escaped), or "" for blank lines. */
export function renderStreamLine(line: string): string {
  const trimmed = line.trim();
  if (trimmed === "") return "";
  let event: Record<string, unknown>;
  try {
    const parsed = JSON.parse(trimmed) as unknown;
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return item("raw", "output", trimmed);
    event = parsed as Record<string, unknown>;
  } catch {
    return item("raw", "output", trimmed);
  }
  const message = (event.message ?? {}) as { content?: unknown };
  const blocks = Array.isArray(message.content) ? (message.content as Record<string, unknown>[]) : [];
  switch (event.type) {
    case "system":
      if (event.subtype === "init") return item("system", "session started", `model ${pretty(event.model ?? "?")} · cwd ${pretty(event.cwd ?? "?")} · session ${pretty(event.session_id ?? "?")}`);
      if (event.subtype === "api_retry") return item("warn", "API retry", `attempt ${pretty(event.attempt)}: ${pretty(event.error ?? "")} (${pretty(event.error_status ?? "")})`);
      return item("system", `system: ${pretty(event.subtype ?? "")}`, pretty(event));
    case "assistant":
      return blocks.map((b) => {
        if (b.type === "text") return item("text", "assistant", String(b.text ?? ""));
        if (b.type === "tool_use") return item("tool", `tool call: ${pretty(b.name ?? "?")}`, toolInput(b.input));
        if (b.type === "thinking") return item("thinking", "thinking", String(b.thinking ?? ""));
        return item("raw", `assistant: ${pretty(b.type ?? "?")}`, pretty(b));
      }).join("");
    case "user":
      return blocks.map((b) => {
        if (b.type === "tool_result") {
          const failed = b.is_error === true;
          return item(failed ? "tool-error" : "tool-result", failed ? "tool error" : "tool result", resultText(b.content));
        }
        if (b.type === "text") return item("text", "user", String(b.text ?? ""));
        return item("raw", `user: ${pretty(b.type ?? "?")}`, pretty(b));
      }).join("");
    case "result": {
      const ok = event.is_error !== true;
      const summary = `${pretty(event.subtype ?? "")} · ${pretty(event.num_turns ?? "?")} turns · $${pretty(event.total_cost_usd ?? "?")}`;
      return item(ok ? "result" : "tool-error", ok ? "result" : "result (error)", pretty(event.result ?? event.errors ?? ""), ` <span class="muted">${esc(summary)}</span>`);
    }
    case "rate_limit_event":
      return item("warn", "rate limit", pretty(event));
    default:
      return item("raw", String(event.type ?? "event"), trimmed);
  }
}

/** Several lines (a stored log's text) as HTML. */
export function renderStream(text: string): string {
  return text.split("\n").map(renderStreamLine).join("");
}
