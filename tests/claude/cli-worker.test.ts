// The `claude-jobs worker` process running Claude jobs with the fake CLI:
// the result as `show` prints it, cancel from another process stopping the
// whole tree, graceful shutdown with a job running, and a log folder it cannot
// write refused at start.

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Queue } from "../../src/queue/client.ts";
import { cliEnv, runCli } from "../helpers/cli.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import {
  isAlive, killCliWorkers, pidFileIn, startCliWorker, tempDir, waitForJob, waitForPid, type CliWorker,
} from "./helpers.ts";

let db: TestDatabase;
let queue: Queue;
const started: CliWorker[] = [];
const cwd = tempDir("claude-e2e-cwd-");

beforeAll(async () => {
  db = await createTestDatabase();
  queue = new Queue(db.sql);
});
afterEach(() => killCliWorkers(started));
afterAll(() => db.drop());

async function worker(args: string[] = [], env: Record<string, string> = {}): Promise<CliWorker> {
  const w = await startCliWorker(db.url, args, env);
  started.push(w);
  return w;
}

const cli = (args: string[], w: CliWorker) => runCli([...args, `--database-url=${db.url}`], { env: w.env });

describe("a Claude job run by the worker process", () => {
  test("records the run on the job, and `show` prints it readably (--json whole)", async () => {
    const w = await worker();
    const id = await queue.enqueue({ payload: { prompt: "list the files", cwd } });
    const job = await waitForJob(queue, id);
    expect(job.status).toBe("finished");

    const json = await cli(["show", id, "--json"], w);
    expect(json.code).toBe(0);
    const shown = JSON.parse(json.stdout);
    expect(shown.result).toEqual(job.result);
    expect(shown.result).toMatchObject({ result: "echo: list the files", numTurns: 2, totalCostUsd: 0.0170877, isError: false });
    expect(shown.result.stdoutLog).toStartWith(w.logDir + "/" + id);

    const text = await cli(["show", id], w);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`session       ${job.result!.sessionId}`);
    expect(text.stdout).toContain("outcome       success, is_error: false, exit 0");
    expect(text.stdout).toContain("turns         2");
    expect(text.stdout).toContain("cost          $0.0171 USD");
    expect(text.stdout).toContain("tokens        input 21, output 254, cache creation 6513, cache read 21737");
    expect(text.stdout).toMatch(/duration {6}\d+ms/);
    expect(text.stdout).toContain("result\n    echo: list the files");
  });

  test("`cancel` from another process stops the whole process tree; the job ends cancelled, not retried", async () => {
    const pidFile = pidFileIn(tempDir("claude-e2e-pid-"));
    const w = await worker([], { FAKE_CLAUDE_PIDFILE: pidFile });
    const id = await queue.enqueue({ maxAttempts: 3, payload: { prompt: "fake:spawn-child", cwd } });
    const grandchild = await waitForPid(pidFile);
    expect((await queue.get(id)).status).toBe("running");

    const cancel = await cli(["cancel", id], w);
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toContain("cancel requested");
    const job = await waitForJob(queue, id);
    expect(job.status).toBe("cancelled");
    expect(job.attempts).toBe(1);
    expect(job.errors.map((e) => e.message)).toEqual(["cancelled by request"]);
    expect(isAlive(grandchild)).toBe(false);
    // Not retried: still cancelled once the worker has polled again (poll interval 200ms).
    await Bun.sleep(600);
    expect((await queue.get(id)).status).toBe("cancelled");
    expect(w.proc.exitCode).toBeNull(); // the worker goes on
  });
});

describe("graceful shutdown with a Claude job running", () => {
  test("SIGTERM lets the running job finish, then the worker exits 0", async () => {
    const w = await worker(["--shutdown-timeout=20s"]);
    const id = await queue.enqueue({ payload: { prompt: "fake:sleep=1500ms", cwd } });
    await waitForJob(queue, id, (j) => j.status === "running");
    expect(await w.stop("SIGTERM")).toBe(0);
    const job = await queue.get(id);
    expect(job.status).toBe("finished");
    expect(job.result).toMatchObject({ exitCode: 0, result: "echo: fake:sleep=1500ms" });
    expect(w.stderr()).toMatch(/waiting up to 20000ms for 1 running job/);
  });

  test("past --shutdown-timeout the tree is stopped and the job put back, its attempt not counted", async () => {
    const pidFile = pidFileIn(tempDir("claude-e2e-pid-"));
    const w = await worker(["--shutdown-timeout=300ms"], { FAKE_CLAUDE_PIDFILE: pidFile });
    const id = await queue.enqueue({ payload: { prompt: "fake:spawn-child", cwd } });
    const grandchild = await waitForPid(pidFile);
    expect(await w.stop("SIGTERM")).toBe(0);
    const job = await queue.get(id);
    expect(job.status).toBe("queued");
    expect(job.attempts).toBe(0);
    expect(job.errors[0]!.message).toContain("worker shut down");
    expect(isAlive(grandchild)).toBe(false);
    await queue.cancel(id); // leave nothing for the next worker
  });
});

describe("the log folder", () => {
  test("one that cannot be written is a one-line error at worker start, exit 1", async () => {
    const file = join(tempDir("claude-e2e-notdir-"), "a-file");
    writeFileSync(file, "not a folder");
    const r = await runCli(["worker", `--log-dir=${file}/logs`], { env: cliEnv({ DATABASE_URL: db.url }) });
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toStartWith(`claude-jobs worker: the Claude log folder ${file}/logs cannot be created or written`);
    expect(lines[0]).toContain("point the log folder setting at a writable directory");
  });
});
