// The contract between the Claude handler and the REAL Claude Code CLI, for
// what can be seen offline: the package `@anthropic-ai/claude-code`, pinned
// exactly in package.json's devDependencies (2.1.197, the newest that runs on
// Node 20; 2.1.332 needs Node 22), run through createClaudeHandler with
// claudePath at the package's own Node entry (cli-wrapper.cjs, which runs the
// platform's native binary from its optional dependency). Each case runs the
// fake CLI (tests/fixtures/fake-claude) the same way, and both must be
// classified alike: same error class, delay, message, result fields and
// stdout event types. So the fake, which every other test uses, cannot drift
// from the real thing in these cases.
//
// Never with anyone's credentials, never on the network: the CLI gets an
// allow-list environment (PATH=/usr/bin:/bin, a fresh empty HOME in a temp
// folder, every proxy variable pointing at a closed port on 127.0.0.1, and
// CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1; IS_SANDBOX=1 only where a case
// says so; the handler adds its own CLAUDE_JOBS_* process markers), no
// ANTHROPIC_* at all. The machine is offline anyway.
//
// What 2.1.197 printed here (as root, Node v20.20.2):
// - `--version`: `2.1.197 (Claude Code)`.
// - No credentials, IS_SANDBOX=1: exit 1 in ~0.5 s. stdout: init
//   (`"apiKeySource":"none"`, `"permissionMode":"bypassPermissions"`), an
//   assistant line (`"model":"<synthetic>"`, text `Not logged in · Please run
//   /login`, top-level `"error":"authentication_failed"`), then
//   `{"type":"result","subtype":"success","is_error":true,"api_error_status":null,
//   "num_turns":1,"result":"Not logged in · Please run /login",
//   "terminal_reason":"completed",...}` (2.1.332 says "api_error" there).
//   stderr empty. It still writes ~/.claude.json and the session's transcript
//   under ~/.claude/projects/<cwd>/.
// - `--resume=<uuid of no session>`: exit 1 in ~0.5 s, no init; only
//   `{"type":"result","subtype":"error_during_execution","is_error":true,
//   "num_turns":0,"session_id":"<that uuid>","errors":["No conversation found
//   with session ID: <uuid>"],...}` (no `result` key); the same text on stderr.
// - As root without IS_SANDBOX: `--dangerously-skip-permissions` and
//   `--permission-mode bypassPermissions` alike: exit 1 in ~0.4 s, nothing on
//   stdout, stderr `--dangerously-skip-permissions cannot be used with
//   root/sudo privileges for security reasons`. `--permission-mode
//   acceptEdits` runs (then: not logged in).
// - `--output-format stream-json -p` without `--verbose`: exit 1, stderr
//   `Error: When using --print, --output-format=stream-json requires --verbose`.
// - `--permission-mode nope`: `error: option '--permission-mode <mode>'
//   argument 'nope' is invalid. Allowed choices are acceptEdits, auto,
//   bypassPermissions, default, dontAsk, plan.` Next to
//   --dangerously-skip-permissions, `--permission-mode plan` still gives
//   `"permissionMode":"bypassPermissions"` in init; alone, `"plan"`.
// Seen by hand, not run here (it takes minutes): with a dummy key and the
// proxy closed, ten `api_retry` lines (`"error_status":null,"error":"unknown"`)
// over ~3 minutes, then an assistant line with `"error":"server_error"` and a
// result `"is_error":true,"api_error_status":null,"result":"API Error: Unable
// to connect to API (ConnectionRefused)","terminal_reason":"completed"`,
// exit 1 after 187 s (the fake's `fake:no-network` replays it at once).

import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { createClaudeHandler } from "../../src/handlers/claude/index.ts";
import { PERMISSION_MODES } from "../../src/handlers/claude/payload.ts";
import { PermanentJobError } from "../../src/handlers/types.ts";
import { FAKE_CLAUDE_ANY_PATH, makeJob, runJob, tempDir } from "../handlers/claude-helpers.ts";

setDefaultTimeout(60_000);

const PINNED = "2.1.197";
const pkgDir = dirname(Bun.resolveSync("@anthropic-ai/claude-code/package.json", import.meta.dir));
const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")) as { version: string };
const node = Bun.which("node");
if (!node) throw new Error("the real Claude CLI's entry is a Node script, and no node is on PATH");

const bin = tempDir("claude-contract-bin-");
/** A launcher for the real CLI: Node by its absolute path, so the child's PATH can be minimal. */
const REAL = join(bin, "claude-real");
writeFileSync(REAL, `#!/bin/sh\nexec '${node}' '${join(pkgDir, "cli-wrapper.cjs")}' "$@"\n`, { mode: 0o755 });
/** A launcher that drops --verbose before running `target`. */
function withoutVerbose(target: string): string {
  const path = join(bin, `no-verbose-${target === REAL ? "real" : "fake"}`);
  writeFileSync(path, `#!/bin/sh\nfor a; do shift; [ "$a" = --verbose ] || set -- "$@" "$a"; done\nexec '${target}' "$@"\n`, { mode: 0o755 });
  return path;
}

/** A local port nothing listens on: taken, then let go. */
const closedPort = await new Promise<number>((resolve, reject) => {
  const server = createServer().once("error", reject).listen(0, "127.0.0.1", () => {
    const { port } = server.address() as { port: number };
    server.close(() => resolve(port));
  });
});
const homes: string[] = [];

/** The only environment the CLI sees: an allow-list, a new empty HOME, and every proxy variable at the closed port. */
function scrubbedEnv(extra: Record<string, string> = {}): Record<string, string> {
  const home = tempDir("claude-contract-home-");
  homes.push(home);
  const proxy = `http://127.0.0.1:${closedPort}`;
  return {
    PATH: "/usr/bin:/bin", HOME: home, HTTPS_PROXY: proxy, HTTP_PROXY: proxy, ALL_PROXY: proxy,
    https_proxy: proxy, http_proxy: proxy, all_proxy: proxy, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1", ...extra,
  };
}

afterAll(() => {
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

interface Run {
  error?: Error & { result?: Record<string, unknown>; delaySeconds?: number };
  value?: Record<string, unknown>;
  /** The `type` of each stdout line, in order. */
  events: string[];
  /** The init line's permission mode, if there was one. */
  permissionMode?: string;
  home: string;
  ms: number;
}

async function runThrough(claudePath: string, payload: Record<string, unknown>, extraEnv: Record<string, string>): Promise<Run> {
  const env = scrubbedEnv(extraEnv);
  // The scrub itself: no credentials and no Claude settings but what the case sets.
  const leaked = Object.keys(env).filter((k) => /^(ANTHROPIC_|CLAUDE_)/.test(k) && !(k in extraEnv) && k !== "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC");
  expect(leaked).toEqual([]);
  const handler = createClaudeHandler({ claudePath, env, logDir: tempDir("claude-contract-logs-"), killGraceMs: 1000 });
  const cwd = tempDir("claude-contract-cwd-");
  const started = Date.now();
  const { value, error } = await runJob(handler, makeJob(handler.validate!({ cwd, ...payload })));
  const ms = Date.now() - started;
  const stdoutLog = (value ?? error?.result)?.stdoutLog as string;
  const lines = readFileSync(stdoutLog, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const init = lines.find((l) => l.type === "system" && l.subtype === "init");
  return { value, error, events: lines.map((l) => String(l.type)), permissionMode: init?.permissionMode as string | undefined, home: env.HOME!, ms };
}

/** What a run was classified as, with its HOME and ids made comparable. */
function classified(run: Run) {
  const norm = (text: string) => text.replaceAll(run.home, "<HOME>")
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<uuid>");
  const r = (run.value ?? run.error?.result ?? {}) as Record<string, unknown>;
  return {
    error: run.error?.name ?? null, delaySeconds: run.error?.delaySeconds ?? null, message: run.error ? norm(run.error.message) : null,
    subtype: r.subtype, isError: r.isError, assistantError: r.assistantError, exitCode: r.exitCode, signal: r.signal,
    events: run.events, permissionMode: run.permissionMode ?? null,
  };
}

/** Runs a case on the real CLI and on the fake; they must agree. Returns the real run. */
async function bothAgree(o: { payload: Record<string, unknown>; env?: Record<string, string>; dropVerbose?: boolean }): Promise<Run> {
  const real = await runThrough(o.dropVerbose ? withoutVerbose(REAL) : REAL, o.payload, o.env ?? {});
  const fake = await runThrough(o.dropVerbose ? withoutVerbose(FAKE_CLAUDE_ANY_PATH) : FAKE_CLAUDE_ANY_PATH, o.payload, o.env ?? {});
  expect(classified(fake)).toEqual(classified(real));
  // Offline cases: decided locally, in well under the minutes a network wait would take.
  expect(real.ms).toBeLessThan(20_000);
  return real;
}

describe(`the real Claude Code CLI (${PINNED}, offline, no credentials) and the fake classify alike`, () => {
  test("the pinned version is the one installed, and it runs", async () => {
    expect(pkg.version).toBe(PINNED);
    const devDeps = (JSON.parse(readFileSync(join(import.meta.dir, "../../package.json"), "utf8")) as { devDependencies: Record<string, string> }).devDependencies;
    expect(devDeps["@anthropic-ai/claude-code"]).toBe(PINNED); // exactly, no range
    const proc = Bun.spawn([REAL, "--version"], { env: scrubbedEnv(), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    expect((await new Response(proc.stdout).text()).trim()).toBe(`${PINNED} (Claude Code)`);
    expect(await proc.exited).toBe(0);
  });

  test("payload.permission_mode accepts exactly the modes this CLI accepts", async () => {
    const proc = Bun.spawn([REAL, "--permission-mode", "nope", "--verbose", "--output-format", "stream-json", "-p", "hi"],
      { env: scrubbedEnv({ IS_SANDBOX: "1" }), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const stderr = await new Response(proc.stderr).text();
    expect(await proc.exited).toBe(1);
    const choices = /Allowed choices are (.*)\./.exec(stderr)?.[1]?.split(", ");
    expect(choices).toEqual([...PERMISSION_MODES]);
  });

  test("no credentials: a permanent failure that says how to give a worker credentials", async () => {
    const real = await bothAgree({ payload: { prompt: "hi" }, env: { IS_SANDBOX: "1" } });
    expect(real.error).toBeInstanceOf(PermanentJobError);
    expect(real.error!.message).toStartWith('claude cannot authenticate for this worker: "Not logged in · Please run /login".');
    expect(real.error!.message).toContain("set ANTHROPIC_API_KEY");
    expect(real.error!.message).toContain(`the login is kept in ${real.home}/.claude`);
    expect(real.error!.result).toMatchObject({ subtype: "success", isError: true, assistantError: "authentication_failed", exitCode: 1, apiRetries: 0 });
    expect(real.events).toEqual(["system", "assistant", "result"]);
    expect(real.permissionMode).toBe("bypassPermissions");
  });

  test("an unknown session: permanent, said once, with where sessions live", async () => {
    const session = crypto.randomUUID();
    const real = await bothAgree({ payload: { prompt: "go on", resume: session }, env: { IS_SANDBOX: "1" } });
    expect(real.error).toBeInstanceOf(PermanentJobError);
    const said = `No conversation found with session ID: ${session}`;
    expect(real.error!.message).toStartWith(`claude found no session ${session} to resume (payload.resume): "${said}".`);
    expect(real.error!.message.split(said).length).toBe(2);
    expect(real.error!.message).toContain("saved under the HOME of the user that ran them");
    expect(real.error!.result).toMatchObject({ subtype: "error_during_execution", isError: true, sessionId: session, errors: [said], exitCode: 1 });
    expect(real.events).toEqual(["result"]);
  });

  test("as root without IS_SANDBOX: --dangerously-skip-permissions and bypassPermissions are refused, and said what to do", async () => {
    expect(process.getuid!()).toBe(0); // the CLI refuses only for root; CI and this machine run the tests as root
    const skip = await bothAgree({ payload: { prompt: "hi" } });
    expect(skip.error).toBeInstanceOf(PermanentJobError);
    expect(skip.error!.message).toStartWith("claude refused --dangerously-skip-permissions because the worker runs as root. Set IS_SANDBOX=1");
    expect(skip.events).toEqual([]);
    const bypass = await bothAgree({ payload: { prompt: "hi", permission_mode: "bypassPermissions" } });
    expect(bypass.error!.message).toStartWith("claude refused payload.permission_mode bypassPermissions because the worker runs as root.");
  });

  test("a job's permission mode is the one the CLI runs in (and another mode runs as root)", async () => {
    const plan = await bothAgree({ payload: { prompt: "hi", permission_mode: "plan" } });
    expect(plan.permissionMode).toBe("plan");
    expect(plan.error!.message).toStartWith("claude cannot authenticate"); // it got as far as the API: not refused as root
    const edits = await bothAgree({ payload: { prompt: "hi", permission_mode: "acceptEdits" }, env: { IS_SANDBOX: "1" } });
    expect(edits.permissionMode).toBe("acceptEdits");
  });

  test("stream-json without --verbose: refused as a command line this CLI rejects", async () => {
    const real = await bothAgree({ payload: { prompt: "hi" }, env: { IS_SANDBOX: "1" }, dropVerbose: true });
    expect(real.error).toBeInstanceOf(PermanentJobError);
    expect(real.error!.message).toStartWith(
      "claude rejected its command line: Error: When using --print, --output-format=stream-json requires --verbose.");
    expect(real.events).toEqual([]);
  });
});
