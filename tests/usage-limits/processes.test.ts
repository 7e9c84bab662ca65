// The usage limit belongs to the account: worker PROCESSES with the same
// credentials (credential source and Claude config folder) claim no Claude
// job while it is paused, and go on with other kinds; a worker of another
// account is not paused; `claude-jobs claude resume-now` lifts the pause and
// the waiting Claude jobs run at once (NOTIFY), the parked one resuming its
// session.

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Queue } from "../../src/queue/client.ts";
import type { JobRecord } from "../../src/handlers/types.ts";
import { cliEnv, runCli } from "../helpers/cli.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { REPO, type Child } from "../helpers/engine.ts";
import { waitFor } from "../helpers/wait.ts";
import { startWorkerProcess } from "../helpers/worker-process.ts";
import { fakeEnv, FAKE_CLAUDE } from "../handlers/claude-helpers.ts";
import { tempDir, waitForJob } from "../claude/helpers.ts";

const SCRIPT = join(REPO, "tests/usage-limits/fixtures/worker.ts");

let db: TestDatabase;
let queue: Queue;
const children: Child[] = [];
const cwd = tempDir("usage-proc-cwd-");

beforeAll(async () => {
  db = await createTestDatabase();
  queue = new Queue(db.sql);
});
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.proc.exitCode === null) c.proc.kill("SIGTERM");
    await c.exited;
  }
});
afterAll(async () => {
  await db.drop();
});

async function startWorker(queues: string, env: Record<string, string>): Promise<Child> {
  // Not this test's environment: the account is what `env` gives it.
  const child = await startWorkerProcess(db.url, {
    ...env, QUEUES: queues, CLAUDE_PATH: FAKE_CLAUDE, LOG_DIR: tempDir("usage-proc-logs-"),
  }, { script: SCRIPT, inheritEnv: false });
  children.push(child);
  return child;
}

const epochIn = (ms: number) => Math.floor((Date.now() + ms) / 1000);

describe("an account paused on its usage limit", () => {
  test("pauses Claude jobs on every worker process of the account, not noop jobs, not another account's; resume-now lifts it", async () => {
    // One account: the same HOME (so the same config folder) and the same credential variable.
    const account = fakeEnv();
    const other = fakeEnv({ CLAUDE_CONFIG_DIR: join(tempDir("usage-other-"), "claude") });
    const first = await startWorker("a", account);

    const resetsAt = epochIn(3600_000);
    const parkedId = await queue.enqueue({ queue: "a", payload: { prompt: `fake:rejected=${resetsAt}`, cwd } });
    const parked = await waitForJob(queue, parkedId, (j) => j.status === "queued" && j.errors.length === 1);
    expect(parked.attempts).toBe(0);
    await waitFor("the first worker to say it is paused", () => first.stdout().includes('"paused"'));

    // A second process of the same account, started after the pause, and one of another account.
    const second = await startWorker("b", account);
    const third = await startWorker("c", other);
    expect(second.stdout()).toContain(`{"paused":"${new Date(resetsAt * 1000).toISOString()}"}`);

    // Oldest first: were Claude jobs claimable, each worker (one slot) would take its Claude job before the noops.
    const claudeB = await queue.enqueue({ queue: "b", payload: { prompt: "hello from b", cwd } });
    const claudeC = await queue.enqueue({ queue: "c", payload: { prompt: "hello from c", cwd } });
    const noops = await Promise.all(Array.from({ length: 5 }, () => queue.enqueue({ queue: "b", kind: "noop", payload: {} })));
    for (const id of noops) expect((await waitForJob(queue, id)).status).toBe("finished");
    expect((await waitForJob(queue, claudeC)).status).toBe("finished");
    // Several polls later, still not claimed.
    await Bun.sleep(1000);
    const waiting: JobRecord = await queue.get(claudeB);
    expect(waiting).toMatchObject({ status: "queued", attempts: 0 });

    const lifted = await runCli(["claude", "resume-now"], { env: cliEnv({ DATABASE_URL: db.url }) });
    expect(lifted.code).toBe(0);
    expect(lifted.stdout).toMatch(/Claude resumed for [0-9a-f]{12} \(ANTHROPIC_API_KEY, .*\): 1 parked job\(s\) due now/);
    expect((await waitForJob(queue, claudeB, undefined, 10_000)).status).toBe("finished");
    const resumed = await waitForJob(queue, parkedId, undefined, 10_000);
    expect(resumed).toMatchObject({ status: "finished", attempts: 1 });
    expect(resumed.result).toMatchObject({ continuedSession: parked.result!.sessionId });
    void third;
  });

  test("resume-now with nothing paused says so, and refuses a malformed --account", async () => {
    const env = cliEnv({ DATABASE_URL: db.url });
    const none = await runCli(["claude", "resume-now"], { env });
    expect(none).toMatchObject({ code: 0 });
    expect(none.stdout).toContain("nothing to resume");
    const bad = await runCli(["claude", "resume-now", "--account=nope"], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--account: must be an account key");
    const unknown = await runCli(["claude", "resume-now", "--account=0123456789abcdef"], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("no paused account has a key starting with 0123456789abcdef");
  });
});
