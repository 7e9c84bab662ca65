/** @jsxImportSource @kitajs/html */
// Claude's stream-json output as HTML: assistant text, tool calls (name and
// input), tool results (error or not), the init and result lines; anything
// else shows as its raw line. One renderer serves the stored logs and the live
// tail (SSE sends each line's HTML). The reading of events is
// handlers/claude/stream-view.ts's; this file lays entries out. Every value is
// escaped; long values are cut so one huge tool result cannot swamp the page.

import { describeStreamLine, type StreamEntry } from "../../handlers/claude/stream-view.ts";
import { esc } from "./format.ts";

const MAX_TEXT = 20_000;

function cut(text: string, max = MAX_TEXT): string {
  return text.length > max ? `${text.slice(0, max)}\n… (${text.length - max} more characters; see the raw log)` : text;
}

function item(kind: string, label: string, body: string, extra = ""): string {
  return `<div class="ev ev-${kind}"><div class="ev-label">${esc(label)}${extra}</div><pre class="ev-body">${esc(cut(body))}</pre></div>`;
}

function formatEntry(e: StreamEntry): string {
  switch (e.kind) {
    case "init": return item("system", e.label, e.body);
    case "assistant": case "user": return item("text", e.label, e.body);
    case "thinking": return item("thinking", e.label, e.body);
    case "tool_call": return item("tool", `tool call: ${e.label}`, e.body);
    case "tool_result": return item(e.isError ? "tool-error" : "tool-result", e.label, e.body);
    case "result": return item(e.isError ? "tool-error" : "result", e.isError ? "result (error)" : "result", e.body, ` <span class="muted">${esc(e.label)}</span>`);
    case "retry": case "rate_limit": return item("warn", e.label, e.body);
    case "system": return item("system", `system: ${e.label}`, e.body);
    case "other": case "raw": return item("raw", e.label, e.body);
  }
}

/** One stdout line as HTML (escaped), or "" when it says nothing worth showing. */
export function renderStreamLine(line: string): string {
  return describeStreamLine(line).map(formatEntry).join("");
}

/** Several lines (a stored log's text) as HTML. */
export function renderStream(text: string): string {
  return text.split("\n").map(renderStreamLine).join("");
}
