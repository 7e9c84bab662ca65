// `claude-jobs logs ID`: a job's output from its own log files, rendered or
// raw, stdout or stderr, any attempt; --follow streams a running job's output
// and exits when the job is final. Jobs are run by an in-process worker.

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { listLogFiles } from "../../src/handlers/claude/index.ts";
import { Queue } from "../../src/queue/client.ts";
import { cliEnv, runCli, spawnCli } from "../helpers/cli.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { waitFor } from "../helpers/wait.ts";
import { ClaudeWorkers, tempDir, waitForJob } from "./helpers.ts";

let db: TestDatabase;
let queue: Queue;
let logDir: string;
const workers = new ClaudeWorkers();
const cwd = tempDir("claude-e2e-cwd-");

beforeAll(async () => {
  db = await createTestDatabase();
  queue = new Queue(db.sql);
  ({ logDir } = await workers.start(db.sql, { queue: "default" }));
});
afterAll(async () => {
  await workers.stopAll();
  await db.drop();
});

const logs = (args: string[]) => runCli(["logs", ...args, `--log-dir=${logDir}`, `--database-url=${db.url}`], { env: cliEnv() });

async function finishedJob(prompt: string, maxAttempts = 1): Promise<string> {
  const id = await queue.enqueue({ maxAttempts, payload: { prompt, cwd } });
  await waitForJob(queue, id);
  return id;
}

describe("logs", () => {
  test("renders the stream-json output: session, assistant text, tool calls and results, the final result with its cost", async () => {
    const id = await finishedJob("what is here?");
    const { result } = await queue.get(id);
    const r = await logs([id]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe([
      `● session ${result!.sessionId} · claude-sonnet-4-6 · in ${cwd}`,
      "Let me look.",
      "→ Bash: ls",
      "  ← README.md",
      "✓ success · 2 turns · 0.0s · $0.0171",
      "echo: what is here?",
      "",
    ].join("\n").replace("0.0s", r.stdout.match(/\d+\.\ds/)![0]));
    expect(r.stderr.trim()).toBe((result!.stdoutLog as string).split("/").at(-1)!);
  });

  test("--raw prints the file as written; --stderr the stderr log", async () => {
    const id = await finishedJob("fake:fail");
    const [stdoutFile, stderrFile] = await listLogFiles(logDir, id);
    const raw = await logs([id, "--raw"]);
    expect(raw.stdout).toBe(readFileSync(stdoutFile!.path, "utf8"));
    expect(raw.stdout).toStartWith('{"type":"system","subtype":"init"');
    const err = await logs([id, "--stderr"]);
    expect(err.code).toBe(0);
    expect(err.stdout).toBe(readFileSync(stderrFile!.path, "utf8"));
    expect(err.stdout).toEndWith("noise line 499\nError: fake failure at the end\n");
  });

  test("shows the newest attempt by default, and any attempt by --attempt", async () => {
    const id = await finishedJob("fake:fail", 2);
    const names = (await listLogFiles(logDir, id)).filter((f) => f.stream === "stdout").map((f) => f.name);
    expect(names).toHaveLength(2);
    expect((await logs([id])).stderr.trim()).toBe(names[1]!);
    expect((await logs([id, "--attempt=1"])).stderr.trim()).toBe(names[0]!);
    const third = await logs([id, "--attempt=3"]);
    expect(third.code).toBe(1);
    expect(third.stderr).toContain(`no attempt 3 log files for job ${id} in ${logDir}`);
    expect((await logs([id, "--attempt=0"])).code).toBe(2);
  });

  test("takes a job id only: a path is refused before anything is read; an unknown job has no logs", async () => {
    const bad = await logs(["../../etc/passwd"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("claude-jobs logs: id: must be a job id");
    expect(bad.stdout).toBe("");
    const unknown = await logs(["0192f1c4-7b1e-7cc0-8d2a-5e1f0a9b3c4d"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no log files for job 0192f1c4-7b1e-7cc0-8d2a-5e1f0a9b3c4d");
  });
});

describe("logs --follow", () => {
  test("streams a running job's output as it is written, and exits 0 once the job has finished", async () => {
    const id = await queue.enqueue({ payload: { prompt: "fake:sleep=1500ms", cwd } });
    const follow = spawnCli(["logs", id, "--follow", "--poll-interval=50ms", `--log-dir=${logDir}`, `--database-url=${db.url}`], cliEnv());
    try {
      // The init line arrives while the run is still going (it sleeps before its result).
      await waitFor("the first rendered line", () => follow.stdout().includes("● session"));
      expect((await queue.get(id)).status).toBe("running");
      expect(follow.stdout()).not.toContain("✓ success");
      expect(await follow.exited).toBe(0);
    } finally {
      follow.proc.kill();
    }
    expect((await queue.get(id)).status).toBe("finished");
    expect(follow.stdout()).toContain("→ Bash: ls");
    expect(follow.stdout()).toEndWith("✓ success · 2 turns · " + follow.stdout().match(/\d+\.\ds/)![0] + " · $0.0171\necho: fake:sleep=1500ms\n");
  });

  test("moves on to a retry's new log file, and stops when the job has failed", async () => {
    const id = await queue.enqueue({ maxAttempts: 2, payload: { prompt: "fake:fail", cwd } });
    const r = await logs([id, "--follow", "--stderr", "--poll-interval=50ms"]);
    expect(r.code).toBe(0);
    expect((await queue.get(id)).status).toBe("failed");
    const names = (await listLogFiles(logDir, id)).filter((f) => f.stream === "stderr").map((f) => f.name);
    expect(r.stderr.trim().split("\n")).toEqual(names);
    expect(r.stdout.match(/Error: fake failure at the end/g)).toHaveLength(2);
  });

  test("on a job already final: prints its output and exits at once", async () => {
    const id = await finishedJob("done already");
    const r = await logs([id, "--follow"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toEndWith("echo: done already\n");
  });
});
