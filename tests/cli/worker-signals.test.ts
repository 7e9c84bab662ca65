// The CLI worker as a process, running the fake `claude`: SIGTERM lets the
// running job finish and exits 0; a second SIGTERM stops it at once and puts
// the job back; a running job cancelled from another process ends cancelled.
// Ctrl-C as a terminal sends it (SIGINT to the whole process group) is one
// signal however the worker was started, although under `bun run` it arrives
// twice; a second press later still means "stop now".
//
// No test leaves a process behind: workers are stopped by signals, so they
// stop their jobs' processes themselves, and every job is deleted between
// tests, so no worker runs a job an earlier test put back.

import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { Queue } from "../../src/queue/client.ts";
import { SIGNAL_REPEAT_WINDOW_MS } from "../../src/cli/main.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { jobRow, REPO, type Child } from "../helpers/engine.ts";
import { CLI, cliEnv, runCli, spawnCli, tempDir } from "../helpers/cli.ts";
import { waitFor } from "../helpers/wait.ts";
import { ensureExecutable } from "../executable/harness.ts";

setDefaultTimeout(60_000);

/** A worker under test: a plain child, or (group) the leader of its own process group, as a shell starts a job. */
interface WorkerChild extends Child {
  group: boolean;
}

let db: TestDatabase;
let queue: Queue;
const children: WorkerChild[] = [];
/** The fake CLI's folder: every fake `claude` this file starts has it in its command line. */
const FAKE_BIN = cliEnv().PATH!.split(":")[0]!;
let fakesBefore: Set<number>;

beforeAll(async () => {
  db = await createTestDatabase();
  queue = new Queue(db.sql);
  fakesBefore = new Set(fakeClaudes());
});
afterEach(async () => {
  for (const c of children.splice(0)) await stopNow(c);
  await db.sql`DELETE FROM claude_jobs`;
});
afterAll(async () => {
  // Invariant: nothing this file started is still running.
  const left = () => fakeClaudes().filter((pid) => !fakesBefore.has(pid));
  const leftovers = await waitFor("no fake claude left running", () => left().length === 0 || null, { timeoutMs: 5000 })
    .then(() => [], () => left());
  for (const pid of leftovers) process.kill(pid, "SIGKILL");
  await db.drop();
  expect(leftovers).toEqual([]);
});

/** Live fake `claude` processes started from this file's FAKE_BIN. */
function fakeClaudes(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2))) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(FAKE_BIN)) pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

function signal(c: WorkerChild, sig: NodeJS.Signals): void {
  try {
    if (c.group) process.kill(-c.proc.pid, sig);
    else c.proc.kill(sig);
  } catch {
    // already gone
  }
}

/**
 * Stops a worker the way an operator does: a signal, then a second one after
 * the repeat window (stop its jobs now, their process groups included), and
 * SIGKILL only if it is still there after that.
 */
async function stopNow(c: WorkerChild): Promise<void> {
  const exited = c.exited.then(() => true);
  const within = (ms: number) => Promise.race([exited, Bun.sleep(ms).then(() => false)]);
  signal(c, "SIGTERM");
  if (await within(SIGNAL_REPEAT_WINDOW_MS + 200)) return;
  signal(c, "SIGTERM");
  if (await within(15_000)) return;
  signal(c, "SIGKILL");
  await c.exited;
}

// The fake named by path: `bun run` puts node_modules/.bin first on PATH,
// where a real `claude` may be installed; a test must never run that one.
const workerArgs = (logDir = tempDir("claude-jobs-logs-")) => ["worker", `--database-url=${db.url}`, `--log-dir=${logDir}`,
  `--claude-path=${FAKE_BIN}/claude`, "--poll-interval=200ms", "--rescue-interval=500ms", "--kill-grace=1s", "--shutdown-timeout=20s"];

/**
 * Waits until the job's fake claude has written its first line. "running" in
 * the database comes before the spawn, and a child being spawned is still in
 * the worker's process group until it calls setsid: a group signal then is
 * pending in it and kills it once it runs. The job is not what is under test.
 */
const untilSpawned = (logDir: string) => waitFor("the fake claude to have started", () =>
  readdirSync(logDir).some((f) => f.endsWith(".stdout.log") && statSync(join(logDir, f)).size > 0));

async function untilStarted(child: WorkerChild): Promise<WorkerChild> {
  children.push(child);
  await Promise.race([
    waitFor("the worker to start", () => /worker \d+ started/.test(child.stderr()), { timeoutMs: 15_000 }),
    child.exited.then((code) => { throw new Error(`worker exited ${code}: ${child.stderr()}`); }),
  ]);
  return child;
}

const startWorker = () => untilStarted({ ...spawnCli(workerArgs(), cliEnv()), group: false });

/** Starts `cmd` as the leader of a new process group, as a shell does for a foreground job. */
function spawnGroup(cmd: string[]): WorkerChild {
  const proc = Bun.spawn(cmd, { cwd: REPO, env: cliEnv(), stdin: "ignore", stdout: "pipe", stderr: "pipe", detached: true });
  let out = "";
  let err = "";
  const drain = async (stream: ReadableStream<Uint8Array>, add: (s: string) => void) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) add(decoder.decode(chunk, { stream: true }));
  };
  const done = Promise.all([drain(proc.stdout, (s) => (out += s)), drain(proc.stderr, (s) => (err += s))]);
  const exited = proc.exited.then(async (code) => (await done, code));
  return { proc: proc as unknown as Child["proc"], stdout: () => out, stderr: () => err, exited, group: true };
}

const enqueueClaude = (prompt: string) => queue.enqueue({ payload: { prompt, cwd: tempDir("claude-jobs-cwd-") } });
const status = (id: string) => async () => (await jobRow(db.sql, id)).status;
const GRACEFUL = "stopping: waiting";
const IMMEDIATE = /stopping \d+ running job\(s\) now/;

describe("the CLI worker and signals", () => {
  test("on SIGTERM it lets the running job finish, then exits 0", async () => {
    const worker = await startWorker();
    const id = await enqueueClaude("fake:sleep=1500ms");
    await waitFor("the job to run", async () => (await status(id)()) === "running");
    worker.proc.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
    const job = await jobRow(db.sql, id);
    expect(job.status).toBe("finished");
    expect(job.attempts).toBe(1);
    expect(worker.stderr()).toContain("stopping");
  });

  test("a second SIGTERM stops at once: exit 0, the job back in the queue with its attempt refunded", async () => {
    const worker = await startWorker();
    const id = await enqueueClaude("fake:hang");
    await waitFor("the job to run", async () => (await status(id)()) === "running");
    worker.proc.kill("SIGTERM");
    await waitFor("the worker to say it is stopping", () => worker.stderr().includes("stopping"));
    await Bun.sleep(SIGNAL_REPEAT_WINDOW_MS + 100); // a second request, not a copy of the first
    const t0 = Date.now();
    worker.proc.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000); // far below the 20s shutdown timeout
    const job = await jobRow(db.sql, id);
    expect(job.status).toBe("queued");
    expect(job.attempts).toBe(0);
  });

  test("a running job cancelled by `claude-jobs cancel` in another process ends cancelled and is not retried", async () => {
    await startWorker();
    const id = await enqueueClaude("fake:hang");
    await waitFor("the job to run", async () => (await status(id)()) === "running");
    const cancel = await runCli(["cancel", id, `--database-url=${db.url}`]);
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toContain("cancel requested");
    await waitFor("the job to end cancelled", async () => (await status(id)()) === "cancelled", { timeoutMs: 10_000 });
    const job = await jobRow(db.sql, id);
    expect(job.attempts).toBe(1);
    expect(job.finishedAt).not.toBeNull();
  });
});

describe("Ctrl-C in a terminal: SIGINT to the worker's whole process group", () => {
  const launchers: [string, () => Promise<string[]>][] = [
    // `bun run` forwards its copy of the signal to its child: the worker gets two.
    ["`bun run start worker`", async () => [process.execPath, "run", "start"]],
    ["`bun src/cli/main.ts worker`", async () => [process.execPath, CLI]],
    ["the compiled executable", async () => [await ensureExecutable()]],
  ];

  for (const [name, command] of launchers) {
    test(`one press under ${name} is one signal: the running job is waited for, then exit 0`, async () => {
      const logDir = tempDir("claude-jobs-logs-");
      const worker = await untilStarted(spawnGroup([...(await command()), ...workerArgs(logDir)]));
      const id = await enqueueClaude("fake:sleep=1500ms");
      await waitFor("the job to run", async () => (await status(id)()) === "running");
      await untilSpawned(logDir);
      process.kill(-worker.proc.pid, "SIGINT");
      expect(await worker.exited).toBe(0);
      expect(worker.stderr()).toContain(GRACEFUL);
      expect(worker.stderr()).not.toMatch(IMMEDIATE);
      const job = await jobRow(db.sql, id);
      expect({ status: job.status, attempts: job.attempts, errors: job.errors }).toEqual({ status: "finished", attempts: 1, errors: [] });
    });
  }

  test("a second press after the repeat window under `bun run start worker` stops the job at once", async () => {
    const logDir = tempDir("claude-jobs-logs-");
    const worker = await untilStarted(spawnGroup([process.execPath, "run", "start", ...workerArgs(logDir)]));
    const id = await enqueueClaude("fake:hang");
    await waitFor("the job to run", async () => (await status(id)()) === "running");
    await untilSpawned(logDir);
    process.kill(-worker.proc.pid, "SIGINT");
    await waitFor("the graceful stop to begin", () => worker.stderr().includes(GRACEFUL));
    await Bun.sleep(SIGNAL_REPEAT_WINDOW_MS + 100);
    // The first press alone was graceful: the job still runs.
    expect(worker.stderr()).not.toMatch(IMMEDIATE);
    expect(await status(id)()).toBe("running");
    const t0 = Date.now();
    process.kill(-worker.proc.pid, "SIGINT");
    expect(await worker.exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000); // not the 20s shutdown timeout
    expect(worker.stderr()).toMatch(IMMEDIATE);
    // Two presses, four deliveries: counted as two, not as the third ("leave without waiting").
    expect(worker.stderr()).not.toContain("leaving now");
    const job = await jobRow(db.sql, id);
    expect({ status: job.status, attempts: job.attempts }).toEqual({ status: "queued", attempts: 0 });
  });
});
