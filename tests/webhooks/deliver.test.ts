// Webhook deliveries from the outbox to a local receiver: the trigger writes
// an event when a job with a webhook (its own or its queue's) ends, in the
// job's transaction; the delivery task POSTs it, signed, and retries after
// 5xx, 429 and timeouts with backoff on an injected clock, never after other
// 4xx, and never sends again what got a 2xx.

import { afterAll, afterEach, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { createHmac } from "node:crypto";
import { Queue } from "../../src/queue/client.ts";
import { deliverDue, BACKOFF_CAP_MS, webhookBackoffMs, webhookTask } from "../../src/notify/deliver.ts";
import { recordWebhookEvent, submitWithWebhook, Webhooks } from "../../src/notify/webhooks.ts";
import { verifySignature } from "../../src/notify/sign.ts";
import { webhookClaim, webhookRecord } from "../../src/db/webhooks.ts";
import { InputError } from "../../src/errors.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { WorkerPool } from "../helpers/engine.ts";
import { waitFor } from "../helpers/wait.ts";
import { ParkJobError } from "../../src/handlers/types.ts";
import { Clock, contextFor, endJob, Receiver } from "./helpers.ts";

setDefaultTimeout(30_000);

let db: TestDatabase;
let queue: Queue;
let webhooks: Webhooks;
let receiver: Receiver;

beforeAll(async () => {
  db = await createTestDatabase();
  queue = new Queue(db.sql);
  webhooks = new Webhooks(db.sql);
  receiver = new Receiver();
});
afterEach(async () => {
  receiver.reset();
  // Each test starts with an empty outbox: earlier tests' deliveries are done with.
  await db.sql`DELETE FROM claude_job_deliveries`;
  await db.sql`DELETE FROM claude_job_queue_webhooks`;
});
afterAll(async () => {
  receiver.stop();
  await db.drop();
});

async function jobWithWebhook(webhook: { url?: string; secret?: string; template?: string } = {}, params: Record<string, unknown> = {}): Promise<string> {
  const [o] = await submitWithWebhook(queue, [{ kind: "noop", queue: "hooks", payload: {}, ...params }], { url: receiver.url, ...webhook });
  return o!.id;
}

const deliveriesOf = (id: string) => db.sql`SELECT * FROM claude_job_deliveries WHERE job_id = ${id} ORDER BY id`;
const SECRET = "s3cret-for-tests";

describe("the outbox", () => {
  test("a job with a webhook that ends writes one pending delivery in the same transaction; a job without writes none", async () => {
    const hooked = await jobWithWebhook();
    const plain = await queue.enqueue({ kind: "noop", queue: "hooks", payload: {} });
    // In a transaction that rolls back, the event goes with it.
    await db.sql.begin(async (tx) => {
      await tx`UPDATE claude_jobs SET status = 'finished', finished_at = now() WHERE id = ${hooked}`;
      expect(await tx`SELECT 1 FROM claude_job_deliveries WHERE job_id = ${hooked}`).toHaveLength(1);
      await tx`SELECT 1/0`;
    }).catch(() => {});
    expect(await deliveriesOf(hooked)).toHaveLength(0);

    await endJob(db.sql, hooked, "finished");
    await endJob(db.sql, plain, "finished");
    const rows = await deliveriesOf(hooked);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ event: "finished", source: "job", state: "pending", attempts: 0, job_status: "finished" });
    expect(await deliveriesOf(plain)).toHaveLength(0);
  });

  test("a claim, a retry or a progress update of a job with a webhook writes no event; only final states do", async () => {
    const id = await jobWithWebhook();
    await db.sql`UPDATE claude_jobs SET priority = 5 WHERE id = ${id}`;
    await db.sql`UPDATE claude_jobs SET status = 'running', worker_id = 1, started_at = now(), attempts = 1 WHERE id = ${id}`;
    expect(await deliveriesOf(id)).toHaveLength(0);
    await endJob(db.sql, id, "failed", { error: "boom" });
    // Writing the same final state again (no change of status) is no new event.
    await db.sql`UPDATE claude_jobs SET error = 'boom again' WHERE id = ${id}`;
    expect((await deliveriesOf(id)).map((d) => d.event)).toEqual(["failed"]);
  });

  test("a queue's webhook covers its jobs (also those enqueued before it was set); a job's own and its queue's both get the event", async () => {
    const before = await queue.enqueue({ kind: "noop", queue: "team", payload: {} });
    await webhooks.setQueue("team", { url: receiver.url });
    const both = await jobWithWebhook({}, { queue: "team" });
    const other = await queue.enqueue({ kind: "noop", queue: "elsewhere", payload: {} });
    for (const id of [before, both, other]) await endJob(db.sql, id, "cancelled");
    expect((await deliveriesOf(before)).map((d) => d.source)).toEqual(["queue"]);
    expect((await deliveriesOf(both)).map((d) => d.source).sort()).toEqual(["job", "queue"]);
    expect(await deliveriesOf(other)).toHaveLength(0);

    expect((await webhooks.clearQueue("team"))?.queue).toBe("team");
    const after = await queue.enqueue({ kind: "noop", queue: "team", payload: {} });
    await endJob(db.sql, after, "finished");
    expect(await deliveriesOf(after)).toHaveLength(0);
    expect(await webhooks.clearQueue("team")).toBeNull();
  });

  test("a queued job cancelled through the queue's API writes its cancelled event", async () => {
    const id = await jobWithWebhook();
    await queue.cancel(id);
    expect((await deliveriesOf(id)).map((d) => d.event)).toEqual(["cancelled"]);
  });

  test("the parked event is written by recordWebhookEvent in the caller's transaction, with its detail", async () => {
    const id = await jobWithWebhook();
    const n = await db.sql.begin((tx) => recordWebhookEvent(tx, id, "parked", { resets_at: "2026-12-02T20:00:00.000Z", reason: "usage limit" }));
    expect(n).toBe(1);
    const clock = new Clock();
    const [report] = await deliverDue(contextFor(db.sql, clock));
    expect(report).toMatchObject({ state: "delivered", event: "parked" });
    const body = JSON.parse(receiver.requests[0]!.body);
    expect(body.event).toBe("job.parked");
    expect(body.job.status).toBe("queued");
    expect(body.detail).toEqual({ resets_at: "2026-12-02T20:00:00.000Z", reason: "usage limit" });
    // A job with no webhook has no target: nothing is written.
    const plain = await queue.enqueue({ kind: "noop", payload: {} });
    expect(await db.sql.begin((tx) => recordWebhookEvent(tx, plain, "parked"))).toBe(0);
  });
});

describe("parks", () => {
  test("a job the Claude handler parks on a usage limit (requeued with result.usageLimit) writes job.parked, through a real worker's completion; a plain retry writes nothing", async () => {
    const pool = new WorkerPool();
    let runs = 0;
    try {
      await pool.start({
        sql: db.sql, maintenance: [],
        handlers: {
          parks: async () => {
            runs++;
            if (runs === 1) {
              throw new ParkJobError("waiting for the usage limit to reset at 20:00", {
                delayMs: 60_000,
                result: { usageLimit: { resetsAt: "2026-12-02T20:00:00.000Z", runAt: "2026-12-02T20:00:07.000Z", reason: "waiting for the usage limit to reset at 20:00", rateLimitType: "five_hour", parkedAt: new Date().toISOString(), accountKey: "a".repeat(64) } },
              });
            }
          },
          flaky: async () => { throw new Error("try again"); },
        },
      });
      const parked = await jobWithWebhook({}, { kind: "parks" });
      const flaky = await jobWithWebhook({}, { kind: "flaky", maxAttempts: 2 });
      await waitFor("the park", async () => (await deliveriesOf(parked)).length === 1);
      const [row] = await deliveriesOf(parked);
      expect(row).toMatchObject({ event: "parked", job_status: "queued" });
      expect(row!.detail).toEqual({ resets_at: "2026-12-02T20:00:00.000Z", run_at: "2026-12-02T20:00:07.000Z", reason: "waiting for the usage limit to reset at 20:00", rate_limit_type: "five_hour" });
      await waitFor("the flaky job's first failure", async () => (await queue.get(flaky)).errors.length >= 1);
      expect(await deliveriesOf(flaky)).toHaveLength(0);
      // The parked job is due again (as at the reset) and finishes: its end is an event of its own.
      await db.sql`UPDATE claude_jobs SET run_at = now() WHERE id = ${parked}`;
      await waitFor("the parked job to finish", async () => (await queue.get(parked)).status === "finished");
      await waitFor("its finished event", async () => (await deliveriesOf(parked)).length === 2);
      expect((await deliveriesOf(parked)).map((d) => d.event)).toEqual(["parked", "finished"]);
    } finally {
      await pool.stopAll();
    }
  });
});

describe("delivery", () => {
  test("POSTs the event JSON with the Claude summary, the branch and the job link, signed over timestamp and raw body", async () => {
    const id = await jobWithWebhook({ secret: SECRET }, { kind: "claude", payload: { prompt: "p", cwd: "/tmp" } });
    const longText = "x".repeat(5000);
    await endJob(db.sql, id, "finished", {
      result: { result: longText, totalCostUsd: 0.42, numTurns: 7, sessionId: "0b7c3c8e-1111-4222-8333-444455556666", isError: false, subtype: "success", worktree: { branch: `claude-jobs/${id}`, changed: true } },
    });
    const clock = new Clock();
    const reports = await deliverDue(contextFor(db.sql, clock), { publicUrl: "https://jobs.example.com/" });
    expect(reports).toEqual([expect.objectContaining({ jobId: id, state: "delivered", statusCode: 200, recorded: true })]);
    expect(receiver.requests).toHaveLength(1);
    const req = receiver.requests[0]!;
    expect(req.headers["content-type"]).toBe("application/json");
    expect(req.headers["x-claude-jobs-event"]).toBe("job.finished");
    expect(req.headers["x-claude-jobs-delivery"]).toBe(reports[0]!.id);
    // Verified here by hand, not only with the module's own verifier.
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(req.headers["x-claude-jobs-signature"]!)!;
    expect(Number(t)).toBe(Math.floor(clock.ms / 1000));
    expect(v1).toBe(createHmac("sha256", SECRET).update(`${t}.${req.body}`).digest("hex"));
    expect(verifySignature(SECRET, req.body, req.headers["x-claude-jobs-signature"]!, clock.now())).toBe(true);
    expect(verifySignature("wrong", req.body, req.headers["x-claude-jobs-signature"]!, clock.now())).toBe(false);
    expect(verifySignature(SECRET, req.body + " ", req.headers["x-claude-jobs-signature"]!, clock.now())).toBe(false);
    // A replay ten minutes later is refused by its timestamp.
    expect(verifySignature(SECRET, req.body, req.headers["x-claude-jobs-signature"]!, new Date(clock.ms + 600_000))).toBe(false);

    const body = JSON.parse(req.body);
    expect(body).toMatchObject({
      event: "job.finished",
      job: { id, kind: "claude", queue: "hooks", status: "finished", error: null, url: `https://jobs.example.com/jobs/${id}` },
      claude: { cost_usd: 0.42, turns: 7, session_id: "0b7c3c8e-1111-4222-8333-444455556666", is_error: false, subtype: "success" },
      worktree: { branch: `claude-jobs/${id}`, changed: true },
    });
    expect(body.claude.result.length).toBeLessThanOrEqual(2001);
    const [row] = await deliveriesOf(id);
    expect(row).toMatchObject({ state: "delivered", attempts: 1, last_status: 200 });
    expect(row!.body).toBe(req.body);
    // Delivered: no later tick sends it again.
    clock.advance(BACKOFF_CAP_MS * 2);
    expect(await deliverDue(contextFor(db.sql, clock))).toEqual([]);
    expect(receiver.requests).toHaveLength(1);
  });

  test("the global secret signs targets that have none; no secret at all: no signature header", async () => {
    const id = await jobWithWebhook();
    await endJob(db.sql, id, "finished");
    const clock = new Clock();
    await deliverDue(contextFor(db.sql, clock), { secret: "global-one" });
    const req = receiver.requests[0]!;
    expect(verifySignature("global-one", req.body, req.headers["x-claude-jobs-signature"]!, clock.now())).toBe(true);
    const plain = await jobWithWebhook();
    await endJob(db.sql, plain, "finished");
    await deliverDue(contextFor(db.sql, new Clock()));
    expect(receiver.requests[1]!.headers["x-claude-jobs-signature"]).toBeUndefined();
  });

  test("retries after 500s with exponential backoff on the injected clock, then delivers once; every attempt is recorded", async () => {
    receiver.answer({ status: 500, body: "down" }, { status: 503, body: "still down" }, { status: 200, body: "thanks" });
    const id = await jobWithWebhook({ secret: SECRET });
    await endJob(db.sql, id, "failed", { error: "it broke" });
    const clock = new Clock();
    const ctx = contextFor(db.sql, clock);
    expect((await deliverDue(ctx))[0]).toMatchObject({ state: "pending", statusCode: 500 });
    // Not due yet: nothing is sent before the backoff has passed.
    clock.advance(webhookBackoffMs(1, 0) - 1000);
    expect(await deliverDue(ctx)).toEqual([]);
    clock.advance(webhookBackoffMs(1, 1));
    expect((await deliverDue(ctx))[0]).toMatchObject({ state: "pending", statusCode: 503, attempt: 2 });
    clock.advance(webhookBackoffMs(1, 1));
    expect(await deliverDue(ctx)).toEqual([]); // the second wait is twice the first
    clock.advance(webhookBackoffMs(2, 1));
    expect((await deliverDue(ctx))[0]).toMatchObject({ state: "delivered", statusCode: 200, attempt: 3 });
    clock.advance(BACKOFF_CAP_MS * 2);
    expect(await deliverDue(ctx)).toEqual([]);

    expect(receiver.requests).toHaveLength(3);
    // Every retry sends the same bytes (signed afresh).
    expect(new Set(receiver.requests.map((r) => r.body)).size).toBe(1);
    const [shown] = await webhooks.deliveries(id);
    expect(shown).toMatchObject({ state: "delivered", attempts: 3, lastStatus: 200 });
    expect(shown!.attemptLog.map((a) => [a.attempt, a.statusCode, a.response])).toEqual([[1, 500, "down"], [2, 503, "still down"], [3, 200, "thanks"]]);
    expect(JSON.parse(receiver.requests[0]!.body).job.error).toBe("it broke");
  });

  test("a receiver that does not answer in time: the attempt times out and is retried", async () => {
    receiver.answer({ status: 200, delayMs: 2000 });
    const id = await jobWithWebhook();
    await endJob(db.sql, id, "finished");
    const clock = new Clock();
    const ctx = contextFor(db.sql, clock);
    const started = Date.now();
    const [first] = await deliverDue(ctx, { timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(first).toMatchObject({ state: "pending", statusCode: null });
    expect(first!.error).toContain("no answer in 300 ms");
    clock.advance(BACKOFF_CAP_MS);
    expect((await deliverDue(ctx, { timeoutMs: 300 }))[0]).toMatchObject({ state: "delivered", attempt: 2 });
  });

  test("a network error (nothing listening) is retried", async () => {
    const dead = new Receiver();
    const url = dead.url;
    dead.stop();
    const [o] = await submitWithWebhook(queue, [{ kind: "noop", payload: {} }], { url });
    await endJob(db.sql, o!.id, "finished");
    const [report] = await deliverDue(contextFor(db.sql, new Clock()));
    expect(report).toMatchObject({ state: "pending", statusCode: null });
    expect(report!.error).not.toBe("");
  });

  test("4xx other than 429 is not retried; 429 is, honouring Retry-After", async () => {
    receiver.answer({ status: 404, body: "no such hook" });
    const gone = await jobWithWebhook();
    await endJob(db.sql, gone, "finished");
    const clock = new Clock();
    const ctx = contextFor(db.sql, clock);
    expect((await deliverDue(ctx))[0]).toMatchObject({ state: "failed", statusCode: 404 });
    clock.advance(BACKOFF_CAP_MS * 2);
    expect(await deliverDue(ctx)).toEqual([]);
    expect(receiver.requests).toHaveLength(1);

    receiver.answer({ status: 429, headers: { "retry-after": "120" } });
    const limited = await jobWithWebhook();
    await endJob(db.sql, limited, "finished");
    expect((await deliverDue(ctx))[0]).toMatchObject({ state: "pending", statusCode: 429 });
    clock.advance(60_000); // past the 10 s backoff, not past Retry-After
    expect(await deliverDue(ctx)).toEqual([]);
    clock.advance(65_000);
    expect((await deliverDue(ctx))[0]).toMatchObject({ state: "delivered", attempt: 2 });
  });

  test("a worker whose clock is behind the database's delivers at once, and its retries still wait their backoff", async () => {
    receiver.answer({ status: 500 });
    const id = await jobWithWebhook();
    await endJob(db.sql, id, "finished");
    const behind = new Clock(Date.now() - 10 * 60_000);
    const ctx = contextFor(db.sql, behind);
    expect((await deliverDue(ctx))[0]).toMatchObject({ state: "pending", statusCode: 500 });
    expect(await deliverDue(ctx)).toEqual([]);
    const [row] = await deliveriesOf(id);
    expect(row!.next_attempt_at.getTime()).toBeGreaterThan(Date.now() + 5000);
  });

  test("one tick of the task drains a backlog larger than a batch, each delivery once", async () => {
    const outcomes = await submitWithWebhook(queue, Array.from({ length: 50 }, () => ({ kind: "noop", queue: "hooks", payload: {} })), { url: receiver.url });
    await db.sql`UPDATE claude_jobs SET status = 'finished', finished_at = now() WHERE id = ANY(${outcomes.map((o) => o.id)}::uuid[])`;
    const ctx = contextFor(db.sql, new Clock(Date.now() + 1000));
    await webhookTask().run(ctx);
    expect(ctx.events).toHaveLength(50);
    expect(new Set(receiver.requests.map((r) => r.headers["x-claude-jobs-delivery"])).size).toBe(50);
    expect(receiver.requests).toHaveLength(50);
  });

  test("gives up after max_attempts", async () => {
    receiver.always({ status: 500 });
    const id = await jobWithWebhook();
    await endJob(db.sql, id, "finished");
    await db.sql`UPDATE claude_job_deliveries SET max_attempts = 2 WHERE job_id = ${id}`;
    const clock = new Clock();
    const ctx = contextFor(db.sql, clock);
    await deliverDue(ctx);
    clock.advance(BACKOFF_CAP_MS);
    const [last] = await deliverDue(ctx);
    expect(last).toMatchObject({ state: "failed", attempt: 2 });
    expect(last!.error).toContain("gave up after 2 attempts");
  });

  test("the template builds the body, with values JSON-escaped", async () => {
    const id = await jobWithWebhook({ template: '{"text":"{{status}}: {{queue}} job {{id}} ({{error}})"}' });
    await endJob(db.sql, id, "failed", { error: 'bad "quote"\nand a newline {{id}}' });
    await deliverDue(contextFor(db.sql, new Clock()));
    const body = JSON.parse(receiver.requests[0]!.body);
    expect(body).toEqual({ text: `failed: hooks job ${id} (bad "quote"\nand a newline {{id}})` });
  });

  test("a lease that ran out lets another worker take the delivery; the first worker's late answer changes nothing", async () => {
    const id = await jobWithWebhook();
    await endJob(db.sql, id, "finished");
    const clock = new Clock();
    // Worker 1 claims and dies before answering (nothing is recorded).
    const [taken] = await webhookClaim(db.sql, { now: clock.now(), limit: 10, leaseMs: 5000, workerId: 1 });
    expect(taken!.attempt).toBe(1);
    // Within the lease, no one else takes it.
    expect(await deliverDue(contextFor(db.sql, clock, 2))).toEqual([]);
    // (Margins of seconds: the lease is counted from the database's now when it is later than the test's clock.)
    clock.advance(7000);
    const [second] = await deliverDue(contextFor(db.sql, clock, 2));
    expect(second).toMatchObject({ state: "delivered", attempt: 2, recorded: true });
    const late = await webhookRecord(db.sql, {
      id: taken!.id, attempt: 1, state: "pending", retryInMs: 0, endedAt: clock.now(), statusCode: 500, response: null, error: "late", body: "{}",
    });
    expect(late).toBe(false);
    expect((await deliveriesOf(id))[0]).toMatchObject({ state: "delivered", attempts: 2 });
    expect(receiver.requests).toHaveLength(1);
  });

  test("a delivery whose last attempt was lost with its worker fails once its lease ends", async () => {
    const id = await jobWithWebhook();
    await endJob(db.sql, id, "finished");
    await db.sql`UPDATE claude_job_deliveries SET max_attempts = 1 WHERE job_id = ${id}`;
    const clock = new Clock();
    await webhookClaim(db.sql, { now: clock.now(), limit: 10, leaseMs: 5000, workerId: 1 });
    clock.advance(8000);
    expect(await deliverDue(contextFor(db.sql, clock, 2))).toEqual([]);
    expect((await deliveriesOf(id))[0]).toMatchObject({ state: "failed" });
  });
});

describe("deleted jobs", () => {
  test("a job deleted with its event pending: the event is still sent (it carries what it needs), then forgotten; done deliveries go with their job", async () => {
    const id = await jobWithWebhook();
    await endJob(db.sql, id, "failed", { error: "gone soon" });
    await db.sql`DELETE FROM claude_jobs WHERE id = ${id}`;
    expect(await db.sql`SELECT 1 FROM claude_job_webhooks WHERE job_id = ${id}`).toHaveLength(0);
    const [report] = await deliverDue(contextFor(db.sql, new Clock()));
    expect(report).toMatchObject({ jobId: id, state: "delivered" });
    expect(JSON.parse(receiver.requests[0]!.body).job).toMatchObject({ id, kind: "noop", queue: "hooks", status: "failed", error: "gone soon" });
    expect(await deliveriesOf(id)).toHaveLength(0);
    expect(await db.sql`SELECT 1 FROM claude_job_delivery_attempts a LEFT JOIN claude_job_deliveries d ON d.id = a.delivery_id WHERE d.id IS NULL`).toHaveLength(0);

    const kept = await jobWithWebhook();
    await endJob(db.sql, kept, "finished");
    await deliverDue(contextFor(db.sql, new Clock()));
    expect((await deliveriesOf(kept))[0]).toMatchObject({ state: "delivered" });
    await db.sql`DELETE FROM claude_jobs WHERE id = ${kept}`;
    expect(await deliveriesOf(kept)).toHaveLength(0);
  });
});

test("TRUNCATE claude_jobs forgets the jobs' webhooks and done deliveries, as deleting them does", async () => {
  const pending = await jobWithWebhook();
  await endJob(db.sql, pending, "finished");
  const done = await jobWithWebhook();
  await endJob(db.sql, done, "finished");
  await db.sql`UPDATE claude_job_deliveries SET state = 'delivered' WHERE job_id = ${done}`;
  await db.sql`TRUNCATE claude_jobs`;
  expect(await db.sql`SELECT 1 FROM claude_job_webhooks`).toHaveLength(0);
  expect((await db.sql`SELECT job_id FROM claude_job_deliveries`).map((r) => r.job_id)).toEqual([pending]);
});

describe("validation", () => {
  test("a bad URL, secret or template is an InputError naming the field, and enqueues nothing", async () => {
    const count = async () => Number((await db.sql`SELECT count(*) AS n FROM claude_jobs`)[0]!.n);
    const before = await count();
    const cases: [Record<string, unknown>, string][] = [
      [{ url: "ftp://example.com/x" }, "webhook"],
      [{ url: "not a url" }, "webhook"],
      [{ url: "" }, "webhook"],
      [{ url: "javascript:alert(1)" }, "webhook"],
      [{ url: receiver.url, secret: "" }, "webhook_secret"],
      [{ url: receiver.url, template: "{\"text\": {{status}}}" }, "webhook_template"],
      [{ url: receiver.url, template: "{\"text\": \"{{nope}}\"}" }, "webhook_template"],
    ];
    for (const [input, field] of cases) {
      const error = await submitWithWebhook(queue, [{ kind: "noop", payload: {} }], input as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).field).toBe(field);
    }
    expect(await count()).toBe(before);
    const queueError = await webhooks.setQueue("team", { url: "file:///etc/passwd" }).catch((e: unknown) => e);
    expect((queueError as InputError).field).toBe("url");
    expect(await webhooks.queues()).toEqual([]);
  });

  test("the job page's view of a delivery hides the URL's path (it may hold a credential) and never the secret", async () => {
    const id = await jobWithWebhook({ secret: SECRET });
    await db.sql`UPDATE claude_job_webhooks SET url = 'https://hooks.slack.com/services/T000/B000/XXXXSECRET' WHERE job_id = ${id}`;
    await endJob(db.sql, id, "finished");
    const [shown] = await webhooks.deliveries(id);
    expect(shown!.url).toBe("https://hooks.slack.com/…");
    expect(JSON.stringify(shown)).not.toContain("XXXXSECRET");
    expect(JSON.stringify(shown)).not.toContain(SECRET);
  });
});
