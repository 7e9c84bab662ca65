// The Claude payload: every field's validation, the stored normal form, the
// flags it becomes (checked against what the fake CLI received), and the
// concurrency key.

import { describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../../src/errors.ts";
import { buildClaudeArgs, claudeConcurrencyKey, validateClaudePayload } from "../../src/handlers/claude/index.ts";
import { fakeEnv, makeHandler, makeJob, runJob, tempDir } from "./claude-helpers.ts";

const cwd = tempDir();
const other = tempDir();

function inputError(payload: Record<string, unknown>): InputError {
  try {
    validateClaudePayload(payload);
  } catch (e: unknown) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error("expected an InputError");
}

describe("validateClaudePayload", () => {
  test("keeps a valid payload and stores directories as absolute realpaths", () => {
    const link = join(tempDir(), "link");
    symlinkSync(cwd, link);
    const payload = validateClaudePayload({
      prompt: "fix the bug", cwd: link, model: "opus", max_turns: 5, max_budget_usd: 0.5,
      allowed_tools: ["Read", "Bash(git:*)"], disallowed_tools: ["WebFetch"], permission_mode: "plan",
      append_system_prompt: "be brief", add_dirs: [other], resume: "0192F1C4-7B1E-7CC0-8D2A-5E1F0A9B3C4D",
      timeout: "30m", exclusive: false,
    });
    expect(payload.cwd).toBe(cwd);
    expect(payload.add_dirs).toEqual([other]);
    expect(payload.resume).toBe("0192f1c4-7b1e-7cc0-8d2a-5e1f0a9b3c4d");
    expect(payload.timeout).toBe("30m");
    expect(validateClaudePayload({ ...payload })).toEqual(payload); // validating twice changes nothing
  });

  test("resolves a relative cwd against the enqueuing process's directory", () => {
    expect(validateClaudePayload({ prompt: "x", cwd: "." }).cwd).toBe(process.cwd());
  });

  const file = join(cwd, "a-file");
  writeFileSync(file, "");
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["payload.prompt", { cwd }, /non-empty string; got nothing/],
    ["payload.prompt", { prompt: "  ", cwd }, /non-empty string/],
    ["payload.prompt", { prompt: 42, cwd }, /non-empty string; got 42/],
    ["payload.prompt", { prompt: "a\0b", cwd }, /NUL/],
    ["payload.cwd", { prompt: "x" }, /existing directory; got nothing/],
    ["payload.cwd", { prompt: "x", cwd: "/no/such/dir" }, /\/no\/such\/dir does not exist/],
    ["payload.cwd", { prompt: "x", cwd: file }, /is not a directory/],
    ["payload.model", { prompt: "x", cwd, model: "" }, /non-empty string/],
    ["payload.max_turns", { prompt: "x", cwd, max_turns: 0 }, /positive integer; got 0/],
    ["payload.max_turns", { prompt: "x", cwd, max_turns: 1.5 }, /positive integer/],
    ["payload.max_turns", { prompt: "x", cwd, max_turns: "3" }, /positive integer; got "3"/],
    ["payload.max_budget_usd", { prompt: "x", cwd, max_budget_usd: -1 }, /positive number/],
    ["payload.allowed_tools", { prompt: "x", cwd, allowed_tools: "Read" }, /array of non-empty strings/],
    ["payload.disallowed_tools", { prompt: "x", cwd, disallowed_tools: ["Read", ""] }, /array of non-empty strings/],
    ["payload.permission_mode", { prompt: "x", cwd, permission_mode: "manual" }, /one of .*default, dontAsk, plan .*got "manual"/],
    ["payload.permission_mode", { prompt: "x", cwd, permission_mode: "yolo" }, /one of acceptEdits, auto, bypassPermissions, default, dontAsk, plan \(Claude Code 2\.1\.197's modes\); got "yolo"/],
    ["payload.append_system_prompt", { prompt: "x", cwd, append_system_prompt: 1 }, /must be a string/],
    ["payload.add_dirs", { prompt: "x", cwd, add_dirs: other }, /array of existing directories/],
    ["payload.add_dirs[1]", { prompt: "x", cwd, add_dirs: [other, "/no/such"] }, /does not exist/],
    ["payload.resume", { prompt: "x", cwd, resume: "--help" }, /session id \(a UUID/],
    ["payload.timeout", { prompt: "x", cwd, timeout: "5" }, /duration like 90s/],
    ["payload.timeout", { prompt: "x", cwd, timeout: 300 }, /duration string/],
    ["payload.timeout", { prompt: "x", cwd, timeout: "0s" }, /longer than 0/],
    ["payload.exclusive", { prompt: "x", cwd, exclusive: "no" }, /true or false/],
    ["payload.type", { prompt: "x", cwd, type: "claude" }, /allowed keys are prompt, cwd, model, .* exclusive/],
  ];
  for (const [field, payload, message] of cases) {
    test(`refuses ${field} with a message matching ${message.source}`, () => {
      const e = inputError(payload);
      expect(e.field).toBe(field);
      expect(e.code).toBe("invalid_input");
      expect(e.message).toMatch(message);
    });
  }
});

describe("claudeConcurrencyKey", () => {
  test("is the cwd's realpath unless exclusive is false", () => {
    const { handler } = makeHandler();
    expect(handler.concurrencyKey!({ prompt: "x", cwd })).toBe(`claude:${cwd}`);
    expect(handler.concurrencyKey!({ prompt: "x", cwd, exclusive: true })).toBe(`claude:${cwd}`);
    expect(handler.concurrencyKey!({ prompt: "x", cwd, exclusive: false })).toBeNull();
  });

  test("two spellings of one directory get one key", () => {
    const link = join(tempDir(), "link");
    symlinkSync(cwd, link);
    expect(claudeConcurrencyKey({ prompt: "x", cwd: link })).toBe(claudeConcurrencyKey({ prompt: "x", cwd }));
  });
});

describe("flags passed to claude", () => {
  test("the minimal payload gives the seed's command, with the prompt after --", async () => {
    const argvFile = join(tempDir(), "argv.json");
    const { handler } = makeHandler({ env: fakeEnv({ FAKE_CLAUDE_ARGV_FILE: argvFile }) });
    const { value } = await runJob(handler, makeJob({ prompt: "- a markdown list item", cwd }));
    expect(value?.result).toBe("echo: - a markdown list item");
    expect(JSON.parse(readFileSync(argvFile, "utf8"))).toEqual([
      "--dangerously-skip-permissions", "--verbose", "--output-format", "stream-json", "-p", "--", "- a markdown list item",
    ]);
  });

  test("every payload option becomes its flag, and the fake accepts them all", async () => {
    const argvFile = join(tempDir(), "argv.json");
    const { handler } = makeHandler({ env: fakeEnv({ FAKE_CLAUDE_ARGV_FILE: argvFile }) });
    // A session to resume: one that ran in this cwd, for this HOME.
    const session = (await runJob(handler, makeJob({ prompt: "start", cwd }))).value!.sessionId as string;
    const third = join(other, "third");
    mkdirSync(third);
    const payload = handler.validate!({
      prompt: "hello", cwd, model: "opus", max_turns: 7, max_budget_usd: 1.25, allowed_tools: ["Read", "Bash(git:*)"],
      disallowed_tools: ["WebFetch", "Write"], permission_mode: "acceptEdits", append_system_prompt: "-be brief",
      add_dirs: [other, third], resume: session,
    });
    const { value, error } = await runJob(handler, makeJob(payload));
    expect(error).toBeUndefined();
    // A permission mode replaces --dangerously-skip-permissions (next to it, the mode would have no effect).
    expect(JSON.parse(readFileSync(argvFile, "utf8"))).toEqual([
      "--permission-mode", "acceptEdits", "--verbose", "--output-format", "stream-json",
      "--model", "opus", "--max-turns", "7", "--max-budget-usd", "1.25",
      "--allowedTools", "Read,Bash(git:*)", "--disallowedTools", "WebFetch,Write",
      "--append-system-prompt", "-be brief",
      "--add-dir", other, "--add-dir", third, `--resume=${session}`,
      "-p", "--", "hello",
    ]);
    // The fake honours --resume and --model as the real CLI does.
    expect(value?.sessionId).toBe(session);
    expect(value?.model).toBe("opus");
  });

  test("a job with a permission mode runs in it; without one, permissions are skipped", async () => {
    const logs = (value: Record<string, unknown> | undefined) =>
      JSON.parse(readFileSync(value!.stdoutLog as string, "utf8").split("\n")[0]!) as Record<string, unknown>;
    const { handler } = makeHandler();
    for (const mode of ["plan", "acceptEdits", "dontAsk", "default", "auto", "bypassPermissions"]) {
      const { value, error } = await runJob(handler, makeJob(handler.validate!({ prompt: "hi", cwd, permission_mode: mode })));
      expect(error).toBeUndefined();
      expect(logs(value).permissionMode).toBe(mode); // the init line
      // Headless, a mode that asks before running Bash gets a denial, kept in the job's result.
      expect(value!.permissionDenials).toEqual(["auto", "bypassPermissions"].includes(mode) ? null : ["Bash"]);
    }
    const { value } = await runJob(handler, makeJob({ prompt: "hi", cwd }));
    expect(logs(value).permissionMode).toBe("bypassPermissions");
    expect(value!.permissionDenials).toBeNull();
  });

  test("buildClaudeArgs puts nothing after the variadic tool lists but a flag", () => {
    const args = buildClaudeArgs({ prompt: "p", cwd, allowed_tools: ["Read"] });
    expect(args[args.indexOf("--allowedTools") + 2]!.startsWith("-")).toBe(true);
  });
});
