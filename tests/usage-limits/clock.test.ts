// The worker's view of its account's pause, with its clock injected: a pause
// another worker records reaches it by NOTIFY; it claims no Claude job until
// its clock passes the reset, then does, with no restart and nothing lifted;
// other kinds run all along. A pause of another account changes nothing.

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { usagePauseRecord } from "../../src/db/usage.ts";
import { accountKeyOf, createClaudeHandler } from "../../src/handlers/claude/index.ts";
import { Queue } from "../../src/queue/client.ts";
import { ParkJobError } from "../../src/handlers/types.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { nextEvent, WorkerPool } from "../helpers/engine.ts";
import { fakeEnv, FAKE_PASS_ENV } from "../handlers/claude-helpers.ts";
import { tempDir, waitForJob } from "../claude/helpers.ts";

let db: TestDatabase;
let queue: Queue;
const pool = new WorkerPool();
const cwd = tempDir("usage-clock-cwd-");

beforeAll(async () => {
  db = await createTestDatabase();
  queue = new Queue(db.sql);
});
afterEach(() => pool.stopAll(5000));
afterAll(() => db.drop());

async function startWorker(queueName: string, clock: { now: Date }) {
  const env = fakeEnv();
  const handler = createClaudeHandler({ logDir: tempDir("usage-clock-logs-"), env, passEnv: FAKE_PASS_ENV, killGraceMs: 1000 });
  const worker = await pool.start({
    sql: db.sql, queues: [queueName], concurrency: 1, maintenance: [], now: () => clock.now,
    handlers: { claude: handler, noop: async () => {} },
  });
  return { worker, account: accountKeyOf(env), handler };
}

const pause = (key: string, label: string, until: Date) =>
  usagePauseRecord(db.sql, { accountKey: key, accountLabel: label, until, reason: "waiting for the usage limit to reset at 20:00 (UTC)", rateLimitType: null, jobId: null });

describe("the worker's clock and its account's pause", () => {
  test("no Claude job is claimed until the worker's clock passes the reset; noop runs meanwhile", async () => {
    const clock = { now: new Date() };
    const { worker, account, handler } = await startWorker("clock", clock);
    expect(handler.usageAccount).toBe(account.key);
    const until = new Date(Date.now() + 3600_000);
    const told = nextEvent(worker, "worker:usage-paused");
    await pause(account.key, account.label, until); // as another worker of the account would
    expect(await told).toMatchObject({ accountKey: account.key, until });

    const claude = await queue.enqueue({ queue: "clock", payload: { prompt: "hello", cwd } });
    const noop = await queue.enqueue({ queue: "clock", kind: "noop", payload: {} });
    expect((await waitForJob(queue, noop)).status).toBe("finished");
    await Bun.sleep(500); // a few polls
    expect((await queue.get(claude)).status).toBe("queued");

    clock.now = new Date(until.getTime() + 1000);
    expect((await waitForJob(queue, claude)).status).toBe("finished");
  });

  test("another account's pause does not hold this worker back", async () => {
    const clock = { now: new Date() };
    const { account } = await startWorker("other", clock);
    const stranger = accountKeyOf({ HOME: tempDir("usage-stranger-"), CLAUDE_CODE_OAUTH_TOKEN: "t" });
    expect(stranger.key).not.toBe(account.key);
    await pause(stranger.key, stranger.label, new Date(Date.now() + 3600_000));
    const claude = await queue.enqueue({ queue: "other", payload: { prompt: "hello", cwd } });
    expect((await waitForJob(queue, claude)).status).toBe("finished");
  });
});

describe("ParkJobError, for any handler", () => {
  test("puts the job back after delayMs with its attempt refunded, even with no attempts left, and its result kept", async () => {
    let runs = 0;
    await pool.start({
      sql: db.sql, queues: ["parkany"], concurrency: 1, maintenance: [],
      handlers: { parking: async () => { runs++; throw new ParkJobError("waiting for the account", { delayMs: 3600_000, result: { where: "here" } }); } },
    });
    const id = await queue.enqueue({ queue: "parkany", kind: "parking", maxAttempts: 1, payload: {} });
    const job = await waitForJob(queue, id, (j) => j.errors.length === 1);
    expect(job).toMatchObject({ status: "queued", attempts: 0, error: "waiting for the account", result: { where: "here" } });
    const [row] = await db.sql`SELECT extract(epoch FROM run_at - now())::float8 AS s FROM claude_jobs WHERE id = ${id}`;
    expect(row!.s).toBeGreaterThan(3590);
    expect(row!.s).toBeLessThanOrEqual(3600);
    expect(runs).toBe(1);
  });
});
