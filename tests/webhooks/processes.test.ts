// Webhooks across worker processes: an event is committed with the job's
// end, so a worker killed with SIGKILL before delivering it (or while
// sending it) loses nothing: another worker process delivers it. With two
// workers racing over many deliveries, each is sent exactly once when the
// receiver answers 2xx.

import { afterAll, afterEach, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { join } from "node:path";
import { Queue } from "../../src/queue/client.ts";
import { submitWithWebhook } from "../../src/notify/webhooks.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { REPO, type Child } from "../helpers/engine.ts";
import { waitFor } from "../helpers/wait.ts";
import { startWorkerProcess, type WorkerProcess } from "../helpers/worker-process.ts";
import { Receiver } from "./helpers.ts";

setDefaultTimeout(60_000);

const SCRIPT = join(REPO, "tests/webhooks/fixtures/worker.ts");
let db: TestDatabase;
let queue: Queue;
let receiver: Receiver;
const children: Child[] = [];

async function startWorker(env: Record<string, string> = {}): Promise<WorkerProcess> {
  const child = await startWorkerProcess(db.url, env, { script: SCRIPT });
  children.push(child);
  return child;
}

async function kill(child: Child): Promise<void> {
  child.proc.kill("SIGKILL");
  await child.exited;
}

const stateOf = async (jobId: string) => (await db.sql`SELECT state, attempts FROM claude_job_deliveries WHERE job_id = ${jobId}`)[0];

beforeAll(async () => {
  db = await createTestDatabase();
  queue = new Queue(db.sql);
  receiver = new Receiver();
});
afterEach(async () => {
  for (const c of children.splice(0)) await kill(c);
  receiver.reset();
});
afterAll(async () => {
  receiver.stop();
  await db.drop();
});

describe("webhooks and dying workers", () => {
  test("a worker SIGKILLed after the job ended, before delivering: a second worker process delivers the event", async () => {
    const first = await startWorker({ WEBHOOKS: "off" });
    const [o] = await submitWithWebhook(queue, [{ kind: "noop", payload: {} }], { url: receiver.url });
    await waitFor("the job to finish in the first worker", async () => (await queue.get(o!.id)).status === "finished");
    expect(await stateOf(o!.id)).toMatchObject({ state: "pending", attempts: 0 });
    await kill(first);

    await startWorker();
    await waitFor("the delivery", async () => (await stateOf(o!.id))?.state === "delivered", { timeoutMs: 20_000 });
    expect(receiver.requests).toHaveLength(1);
    expect(JSON.parse(receiver.requests[0]!.body).job).toMatchObject({ id: o!.id, status: "finished" });
  });

  test("a worker SIGKILLed while sending (the receiver had not answered): another worker retries once the lease has passed", async () => {
    receiver.answer({ status: 200, delayMs: 30_000 });
    const first = await startWorker();
    const [o] = await submitWithWebhook(queue, [{ kind: "noop", payload: {} }], { url: receiver.url });
    await waitFor("the first attempt to reach the receiver", () => receiver.requests.length === 1, { timeoutMs: 20_000 });
    expect(await stateOf(o!.id)).toMatchObject({ state: "pending", attempts: 1 });
    await kill(first);
    // The second worker's clock is past the lease (10 s + margin): no minutes of waiting.
    await startWorker({ CLOCK_OFFSET_MS: String(5 * 60_000) });
    await waitFor("the delivery", async () => (await stateOf(o!.id))?.state === "delivered", { timeoutMs: 20_000 });
    expect(await stateOf(o!.id)).toMatchObject({ state: "delivered", attempts: 2 });
    const attempts = await db.sql`SELECT a.attempt, a.ended_at, a.status_code FROM claude_job_delivery_attempts a
      JOIN claude_job_deliveries d ON d.id = a.delivery_id WHERE d.job_id = ${o!.id} ORDER BY a.attempt`;
    expect(attempts.map((a) => [a.attempt, a.ended_at === null, a.status_code])).toEqual([[1, true, null], [2, false, 200]]);
  });

  test("two workers racing over 60 deliveries send each exactly once", async () => {
    await Promise.all([startWorker(), startWorker()]);
    const outcomes = await submitWithWebhook(queue, Array.from({ length: 60 }, () => ({ kind: "noop", payload: {} })), { url: receiver.url });
    const ids = outcomes.map((o) => o.id);
    await waitFor("every delivery", async () => {
      const [r] = await db.sql`SELECT count(*)::int AS n FROM claude_job_deliveries WHERE job_id = ANY(${ids}::uuid[]) AND state = 'delivered'`;
      return r!.n === 60;
    }, { timeoutMs: 30_000 });
    await Bun.sleep(500); // a second sending would arrive by now
    const perDelivery = new Map<string, number>();
    for (const r of receiver.requests) perDelivery.set(r.headers["x-claude-jobs-delivery"]!, (perDelivery.get(r.headers["x-claude-jobs-delivery"]!) ?? 0) + 1);
    expect(perDelivery.size).toBe(60);
    expect([...perDelivery.values()].every((n) => n === 1)).toBe(true);
    const workers = await db.sql`SELECT DISTINCT worker_id FROM claude_job_delivery_attempts`;
    expect(workers.length).toBeGreaterThanOrEqual(1);
  });
});
