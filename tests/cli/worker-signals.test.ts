// The CLI worker as a process, running the fake `claude`: SIGTERM lets the
// running job finish and exits 0; a second SIGTERM stops it at once and puts
// the job back; a running job cancelled from another process ends cancelled.

import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Queue } from "../../src/queue/client.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { jobRow, type Child } from "../helpers/engine.ts";
import { cliEnv, runCli, spawnCli, tempDir } from "../helpers/cli.ts";
import { waitFor } from "../helpers/wait.ts";

setDefaultTimeout(30_000);

let db: TestDatabase;
let queue: Queue;
const children: Child[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  queue = new Queue(db.sql);
});
afterEach(async () => {
  for (const c of children.splice(0)) {
    c.proc.kill("SIGKILL");
    await c.exited;
  }
});
afterAll(() => db.drop());

async function startWorker(): Promise<Child> {
  const child = spawnCli(["worker", `--database-url=${db.url}`, `--log-dir=${tempDir("claude-jobs-logs-")}`,
    "--poll-interval=200ms", "--rescue-interval=500ms", "--kill-grace=1s", "--shutdown-timeout=20s"], cliEnv());
  children.push(child);
  await waitFor("the worker to start", () => child.stderr().includes("started"), { timeoutMs: 15_000 });
  return child;
}

const enqueueClaude = (prompt: string) => queue.enqueue({ payload: { prompt, cwd: tempDir("claude-jobs-cwd-") } });
const status = (id: string) => async () => (await jobRow(db.sql, id)).status;

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
