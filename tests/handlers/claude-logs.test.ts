// Log files and stream reading, without running the CLI: names, listing
// (only files that match the pattern for that job), the preflight check,
// bounded tail reads, and the line reader's handling of split and huge lines.

import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, InputError } from "../../src/errors.ts";
import { attemptLogPaths, defaultLogDir, listLogFiles, logStamp, tailFile } from "../../src/handlers/claude/logs.ts";
import { applyEvent, emptySummary, EventLineReader } from "../../src/handlers/claude/stream.ts";
import { makeHandler, tempDir } from "./claude-helpers.ts";

const id = "0192f1c4-7b1e-7cc0-8d2a-5e1f0a9b3c4d";

describe("log files", () => {
  test("default folder is the seed's, under HOME from the env given", () => {
    expect(defaultLogDir({ HOME: "/home/ann" })).toBe("/home/ann/.local/shared/claude-jobs/logs");
  });

  test("an attempt's files are named by job id and UTC start", async () => {
    const dir = join(tempDir(), "new", "logs");
    const paths = await attemptLogPaths(dir, id, new Date("2024-03-05T07:08:09.999Z"));
    expect(logStamp(new Date("2024-12-31T23:59:59Z"))).toBe("20241231-235959");
    expect(paths).toEqual({
      stdoutPath: join(dir, `${id}-20240305-070809.stdout.log`),
      stderrPath: join(dir, `${id}-20240305-070809.stderr.log`),
    });
  });

  test("listLogFiles returns only this job's well-named files, oldest first", async () => {
    const dir = tempDir();
    const names = [
      `${id}-20240305-070809.stderr.log`, `${id}-20240101-000000.stdout.log`, `${id}-20240305-070809.stdout.log`,
      `${id}-20240101-000000.stderr.log`, `${id}-2024-bad.stdout.log`, `${id}-20240101-000000.stdout.log.bak`,
      `0192f1c4-0000-0000-0000-000000000000-20240101-000000.stdout.log`, `${id}-20240101-000000.other.log`,
    ];
    for (const name of names) writeFileSync(join(dir, name), "");
    mkdirSync(join(dir, `${id}-20250101-000000.stdout.log.d`));
    const files = await listLogFiles(dir, id.toUpperCase());
    expect(files.map((f) => f.name)).toEqual([
      `${id}-20240101-000000.stdout.log`, `${id}-20240101-000000.stderr.log`,
      `${id}-20240305-070809.stdout.log`, `${id}-20240305-070809.stderr.log`,
    ]);
    expect(files[2]!.startedAt.toISOString()).toBe("2024-03-05T07:08:09.000Z");
    expect(await listLogFiles(join(dir, "missing"), id)).toEqual([]);
  });

  test("a job id that is not a UUID never reaches the file system", async () => {
    for (const bad of ["../../etc/passwd", "*", `${id}/..`, ""]) {
      await expect(listLogFiles(tempDir(), bad)).rejects.toBeInstanceOf(InputError);
    }
  });

  test("preflight creates the folder, and says clearly when it cannot", async () => {
    const dir = join(tempDir(), "a", "b");
    const { handler } = makeHandler({ logDir: dir });
    await handler.preflight!();
    const file = join(tempDir(), "a-file");
    writeFileSync(file, "");
    const blocked = makeHandler({ logDir: join(file, "logs") }).handler;
    const error = await blocked.preflight!().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(`the Claude log folder ${join(file, "logs")} cannot be created or written`);
    expect((error as Error).message).toContain("writable directory");
  });

  test("tailFile reads only the end of a big file", async () => {
    const file = join(tempDir(), "err.log");
    writeFileSync(file, Array.from({ length: 100_000 }, (_, i) => `line ${i}`).join("\n") + "\n");
    expect(await tailFile(file, 3)).toBe("line 99997\nline 99998\nline 99999");
    const bounded = await tailFile(file, 10_000, 1000);
    expect(bounded.length).toBeLessThanOrEqual(1000);
    expect(bounded.split("\n")[0]).toMatch(/^line \d+$/); // no cut first line
    expect(await tailFile(join(tempDir(), "none"))).toBe("");
  });
});

describe("EventLineReader", () => {
  const collect = (maxLineBytes?: number) => {
    const events: Record<string, unknown>[] = [];
    return { events, reader: new EventLineReader((e) => events.push(e), maxLineBytes) };
  };

  test("joins lines split across chunks, even inside a multi-byte character", () => {
    const { events, reader } = collect();
    const bytes = Buffer.from('{"type":"result","result":"héllo ✓"}\n{"type":"system","subtype":"init"}');
    for (let i = 0; i < bytes.length; i += 3) reader.push(bytes.subarray(i, i + 3));
    reader.end();
    expect(events).toEqual([{ type: "result", result: "héllo ✓" }, { type: "system", subtype: "init" }]);
  });

  test("skips non-JSON, uninteresting and over-long lines, and keeps reading after them", () => {
    const { events, reader } = collect(100);
    reader.push(Buffer.from(`warning: not json "type":"result"\n{"type":"assistant"}\n`));
    reader.push(Buffer.from(`{"type":"result","result":"${"x".repeat(200)}"}\n{"type":"result","result":"ok"}\n`));
    reader.end();
    // An assistant line is passed on bare (it says the last one carried no error code).
    expect(events).toEqual([{ type: "assistant" }, { type: "result", result: "ok" }]);
    expect(reader.skippedLines).toBe(1);
  });

  test("an assistant line is parsed only when it may carry the CLI's error code, and is small", () => {
    const { events, reader } = collect();
    const failure = { type: "assistant", message: { model: "<synthetic>", content: [{ type: "text", text: "Not logged in" }] }, error: "authentication_failed" };
    const big = { type: "assistant", message: { content: [{ type: "text", text: "x".repeat(70_000) }] }, error: "unknown" };
    reader.push(Buffer.from(`${JSON.stringify(failure)}\n${JSON.stringify(big)}\n{"type":"rate_limit_event","rate_limit_info":{"status":"rejected"}}\n`));
    reader.end();
    expect(events).toEqual([failure, { type: "assistant" }, { type: "rate_limit_event", rate_limit_info: { status: "rejected" } }]);
  });

  test("the summary takes the last result, counts api retries and reports the session once", () => {
    const s = emptySummary();
    expect(applyEvent(s, { type: "system", subtype: "init", session_id: "s1", model: "opus" })).toBe(true);
    expect(applyEvent(s, { type: "system", subtype: "api_retry", error_status: 529, error: "overloaded" })).toBe(false);
    applyEvent(s, { type: "result", subtype: "success", is_error: false, result: "a", total_cost_usd: 1, session_id: "s1" });
    applyEvent(s, { type: "result", subtype: "error_max_budget_usd", is_error: true, total_cost_usd: 2, errors: ["over"], session_id: "s1" });
    expect(s).toMatchObject({ sessionId: "s1", model: "opus", apiRetries: 1, subtype: "error_max_budget_usd", isError: true, result: null, totalCostUsd: 2, errors: ["over"] });
  });

  test("the summary keeps the result's structured failure fields, the last assistant error code and rate limit event", () => {
    const s = emptySummary();
    applyEvent(s, { type: "assistant", error: "rate_limit" });
    applyEvent(s, { type: "assistant" }); // a later ordinary line: the earlier error is not the run's
    expect(s.assistantError).toBeNull();
    applyEvent(s, { type: "assistant", error: "server_error" });
    applyEvent(s, { type: "rate_limit_event", rate_limit_info: { status: "allowed_warning", resetsAt: 1700000000, rateLimitType: "seven_day" } });
    applyEvent(s, { type: "rate_limit_event", status: "rejected", resetsAt: 1700000100 }); // the fields at the top level too
    applyEvent(s, {
      type: "result", subtype: "success", is_error: true, result: "API Error: Can't reach the API server", terminal_reason: "api_error",
      api_error: "connection_failed", api_error_status: null,
      permission_denials: [{ tool_name: "Bash", tool_use_id: "t1", tool_input: {} }, { tool_name: "Write", tool_use_id: "t2", tool_input: {} }],
    });
    expect(s).toMatchObject({
      assistantError: "server_error", rateLimit: { status: "rejected", resetsAt: 1700000100, rateLimitType: null },
      terminalReason: "api_error", apiError: "connection_failed", apiErrorStatus: null, permissionDenials: ["Bash", "Write"],
    });
  });
});
