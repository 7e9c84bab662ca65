// Claude's stream-json output as text for people, one line of the log at a
// time: what the assistant said, the tools it called (`→ Bash: ls`), their
// results cut short, API retries, and the final result with its cost. The
// reading of events is stream-view.ts's; this file only lays the entries out
// and cuts them. Pure: the caller reads the log file and prints.

import { describeStreamLine, type StreamEntry } from "./stream-view.ts";

const MAX_RESULT_LINES = 3;
const MAX_RESULT_CHARS = 300;
const MAX_INPUT_CHARS = 200;

/** The text for one log line; null when it says nothing worth showing (blank, partial stream events, thinking). */
export function renderStreamLine(line: string): string | null {
  const lines = describeStreamLine(line).map(formatEntry).filter((l): l is string => l !== null);
  return lines.length > 0 ? lines.join("\n") : null;
}

function formatEntry(e: StreamEntry): string | null {
  switch (e.kind) {
    case "init": return `● ${e.body}`;
    case "assistant": case "user": case "raw": return e.body;
    case "thinking": return null;
    case "tool_call": return `→ ${e.label}: ${clip(e.summary, MAX_INPUT_CHARS)}`;
    case "tool_result": return formatToolResult(e);
    case "result": return formatResult(e);
    case "retry": return `! ${e.label} ${e.body}`;
    case "rate_limit": return `! rate limit: ${clip(oneLine(e.body), MAX_INPUT_CHARS)}`;
    case "system": return `· system ${e.label}`.trimEnd();
    case "other": return `· ${e.label}: ${clip(oneLine(e.body), MAX_INPUT_CHARS)}`;
  }
}

function formatToolResult(e: StreamEntry): string {
  const lines = e.body.replace(/\s+$/, "").split("\n");
  const shown = lines.slice(0, MAX_RESULT_LINES).map((l) => clip(l, MAX_RESULT_CHARS));
  const more = lines.length > MAX_RESULT_LINES ? [`… ${lines.length - MAX_RESULT_LINES} more lines`] : [];
  const mark = e.isError ? "✗" : "←";
  return [...shown, ...more].map((l, i) => `  ${i === 0 ? mark : " "} ${l}`).join("\n");
}

function formatResult(e: StreamEntry): string {
  const head = `${e.isError ? "✗" : "✓"} ${e.label}`;
  return e.body ? `${head}\n${e.body}` : head;
}

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, " ");

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
