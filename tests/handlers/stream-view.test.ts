// describeStreamLine: what each stream-json event says, as entries both log
// views format; and the two views' own limits on what they show of a huge
// tool result. Pure: no database, no process.

import { describe, expect, test } from "bun:test";
import { renderStreamLine as renderText } from "../../src/handlers/claude/render.ts";
import { describeStreamLine } from "../../src/handlers/claude/stream-view.ts";
import { renderStreamLine as renderHtml } from "../../src/web/views/stream.tsx";

const line = (event: unknown) => JSON.stringify(event);

describe("describeStreamLine", () => {
  test("a failed run the CLI calls subtype success (is_error: not logged in) is labelled an error", () => {
    const [result] = describeStreamLine(line({ type: "result", subtype: "success", is_error: true, result: "Not logged in · Please run /login", num_turns: 1 }));
    expect(result!.isError).toBe(true);
    expect(result!.label).toStartWith("error · 1 turns");
    expect(result!.label).not.toContain("success");
    const [ok] = describeStreamLine(line({ type: "result", subtype: "success", is_error: false, result: "done" }));
    expect(ok!.label).toStartWith("success");
  });

  test("init says the session, model and folder", () => {
    const entries = describeStreamLine(line({ type: "system", subtype: "init", session_id: "s-1", model: "claude-sonnet-4-6", cwd: "/work", tools: ["Bash"] }));
    expect(entries).toEqual([{ kind: "init", label: "session started", body: "session s-1 · claude-sonnet-4-6 · in /work", isError: false }]);
  });

  test("an assistant message gives one entry per block: text, thinking, tool calls", () => {
    const entries = describeStreamLine(line({
      type: "assistant",
      message: { id: "msg_1", content: [
        { type: "thinking", thinking: "hmm" },
        { type: "text", text: "Let me look." },
        { type: "tool_use", id: "toolu_1", name: "Bash", input: { command: "ls\n-la", description: "list" } },
      ] },
    }));
    expect(entries.map((e) => e.kind)).toEqual(["thinking", "assistant", "tool_call"]);
    expect(entries[1]).toEqual({ kind: "assistant", label: "assistant", body: "Let me look.", isError: false });
    expect(entries[2]).toEqual({ kind: "tool_call", label: "Bash", body: "$ ls\n-la", summary: "ls ⏎ -la", isError: false });
  });

  test("a tool call's input: a lone path as itself, else JSON in full and its most telling field on one line", () => {
    const [read] = describeStreamLine(line({ type: "assistant", message: { content: [{ type: "tool_use", name: "Read", input: { file_path: "/a.ts" } }] } }));
    expect(read).toMatchObject({ kind: "tool_call", body: "/a.ts", summary: "/a.ts" });
    const edit = { file_path: "/a.ts", old_string: "x", new_string: "y" };
    const [call] = describeStreamLine(line({ type: "assistant", message: { content: [{ type: "tool_use", name: "Edit", input: edit }] } }));
    expect(call).toMatchObject({ kind: "tool_call", body: JSON.stringify(edit, null, 2), summary: "/a.ts" });
    const [odd] = describeStreamLine(line({ type: "assistant", message: { content: [{ type: "tool_use", input: { n: 1 } }] } }));
    expect(odd).toMatchObject({ label: "tool", summary: '{"n":1}' });
  });

  test("tool results: string or text blocks, marked when they failed", () => {
    const entries = describeStreamLine(line({
      type: "user",
      message: { content: [
        { type: "tool_result", tool_use_id: "toolu_1", content: "README.md" },
        { type: "tool_result", tool_use_id: "toolu_2", content: [{ type: "text", text: "no such file" }, { type: "image" }], is_error: true },
      ] },
    }));
    expect(entries).toEqual([
      { kind: "tool_result", label: "tool result", body: "README.md", isError: false },
      { kind: "tool_result", label: "tool error", body: "no such file\n[image]", isError: true },
    ]);
  });

  test("a huge tool result is kept whole; each view cuts it to its own limit", () => {
    const huge = Array.from({ length: 20_000 }, (_, i) => `line ${i} ${"x".repeat(40)}`).join("\n");
    const raw = line({ type: "user", message: { content: [{ type: "tool_result", content: huge }] } });
    const [entry] = describeStreamLine(raw);
    expect(entry!.body).toBe(huge);
    const text = renderText(raw)!;
    expect(text.split("\n")).toHaveLength(4);
    expect(text).toEndWith("… 19997 more lines");
    const html = renderHtml(raw);
    expect(html.length).toBeLessThan(21_000);
    expect(html).toContain(`more characters; see the raw log`);
  });

  test("the final result: facts as the label, the answer or the errors as the body", () => {
    const [ok] = describeStreamLine(line({ type: "result", subtype: "success", is_error: false, num_turns: 3, duration_ms: 5165, total_cost_usd: 0.0170877, result: "All done." }));
    expect(ok).toEqual({ kind: "result", label: "success · 3 turns · 5.2s · $0.0171", body: "All done.", isError: false });
    const [budget] = describeStreamLine(line({ type: "result", subtype: "error_max_budget_usd", is_error: false, errors: ["Reached maximum budget ($0.001)"] }));
    expect(budget).toEqual({ kind: "result", label: "error_max_budget_usd", body: "Reached maximum budget ($0.001)", isError: true });
    const [limited] = describeStreamLine(line({ type: "result", subtype: "success", is_error: true, result: "API Error: Rate limit reached" }));
    expect(limited).toMatchObject({ isError: true, body: "API Error: Rate limit reached" });
  });

  test("API retries and rate limit events", () => {
    const [retry] = describeStreamLine(line({ type: "system", subtype: "api_retry", attempt: 1, max_retries: 10, retry_delay_ms: 600, error_status: 529, error: "overloaded" }));
    expect(retry).toEqual({ kind: "retry", label: "API retry", body: "1/10 in 600ms: 529 overloaded", isError: false });
    const [limit] = describeStreamLine(line({ type: "rate_limit_event", rate_limit_info: { status: "allowed" } }));
    expect(limit).toEqual({ kind: "rate_limit", label: "rate limit", body: JSON.stringify({ status: "allowed" }, null, 2), isError: false });
  });

  test("other system events, unknown events and user text are shown; partial stream events and blank lines are not", () => {
    expect(describeStreamLine(line({ type: "system", subtype: "compact_boundary" }))[0]).toMatchObject({ kind: "system", label: "compact_boundary" });
    const unknown = line({ type: "telemetry", n: 1 });
    expect(describeStreamLine(unknown)).toEqual([{ kind: "other", label: "telemetry", body: unknown, isError: false }]);
    expect(describeStreamLine(line({ type: "user", message: { content: "hi" } }))).toEqual([{ kind: "user", label: "user", body: "hi", isError: false }]);
    expect(describeStreamLine(line({ type: "stream_event", event: { type: "content_block_delta" } }))).toEqual([]);
    expect(describeStreamLine("   \n")).toEqual([]);
  });

  test("a line that is not a JSON event is raw output, as written", () => {
    expect(describeStreamLine("Warning: something odd\n")).toEqual([{ kind: "raw", label: "output", body: "Warning: something odd", isError: false }]);
    expect(describeStreamLine("[1,2]")).toEqual([{ kind: "raw", label: "output", body: "[1,2]", isError: false }]);
    expect(describeStreamLine('{"no":"type"}')).toMatchObject([{ kind: "raw" }]);
  });

  test("the HTML view escapes every value", () => {
    const html = renderHtml(line({ type: "assistant", message: { content: [{ type: "tool_use", name: "<i>T</i>", input: { file: "<b>x</b>" } }] } }))
      + renderHtml(line({ type: "result", subtype: "<s>", result: "<script>" }))
      + renderHtml("<img src=x>");
    expect(html).not.toMatch(/<(i|b|s|script|img)[ >]/);
    expect(html).toContain("&lt;b&gt;x&lt;/b&gt;");
    expect(html).toContain("&lt;script&gt;");
  });
});
