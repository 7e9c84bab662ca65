// Enqueue: durable when it returns, NOTIFY in the same transaction, part of
// the caller's transaction when given one, all-or-none in bulk, and every
// bad field refused with an InputError naming it, before anything is written.

import { afterAll, afterEach, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { relative as relativePath } from "node:path";
import postgres from "postgres";
import { Queue, type EnqueueParams } from "../../src/queue/client.ts";
import { InputError } from "../../src/errors.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { waitFor } from "../helpers/wait.ts";
import { tempDir } from "../helpers/cli.ts";

// Generous: the suite shares a small machine; waits inside tests have their own deadlines.
setDefaultTimeout(30_000);

let db: TestDatabase;
let queue: Queue;
let listener: postgres.Sql;
const heard: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  queue = new Queue(db.sql);
  listener = postgres(db.url, { max: 1, onnotice: () => {} });
  await listener.listen("claude_jobs", (payload) => heard.push(payload));
});

afterEach(async () => {
  await db.sql`DELETE FROM claude_jobs`;
  heard.length = 0;
});

afterAll(async () => {
  await listener.end({ timeout: 1 });
  await db.drop();
});

const count = async () => (await db.sql`SELECT count(*)::int AS n FROM claude_jobs`)[0]!.n as number;

describe("enqueue", () => {
  test("a job is durable when enqueue returns: another connection sees it queued", async () => {
    const id = await queue.enqueue({ kind: "noop", payload: { n: 1 } });
    const other = postgres(db.url, { max: 1 });
    const [row] = await other`SELECT status, kind, payload FROM claude_jobs WHERE id = ${id}`;
    await other.end();
    expect(row).toEqual({ status: "queued", kind: "noop", payload: { n: 1 } });
  });

  test("the NOTIFY is sent in the enqueue's transaction: none before commit, one after", async () => {
    await db.sql.begin(async (tx) => {
      await queue.enqueue({ kind: "noop", queue: "mail", payload: {} }, { tx });
      // Give a wrongly early notification time to arrive; the point is its absence.
      await Bun.sleep(150);
      expect(heard).toEqual([]);
    });
    await waitFor("the notification after commit", () => heard.length > 0);
    expect(heard).toEqual(["mail"]);
  });

  test("a job scheduled for later sends no wake-up", async () => {
    await queue.enqueue({ kind: "noop", queue: "later", payload: {}, delay: "1h" });
    await queue.enqueue({ kind: "noop", queue: "now", payload: {} });
    await waitFor("the due job's notification", () => heard.includes("now"));
    expect(heard).toEqual(["now"]);
  });

  test("an enqueue inside the caller's transaction that rolls back leaves no row and wakes nobody", async () => {
    const rollback = db.sql.begin(async (tx) => {
      await queue.enqueue({ kind: "noop", payload: {} }, { tx });
      throw new Error("the caller's work failed");
    });
    await expect(rollback).rejects.toThrow("the caller's work failed");
    expect(await count()).toBe(0);
    await queue.enqueue({ kind: "noop", queue: "marker", payload: {} });
    await waitFor("the marker's notification", () => heard.includes("marker"));
    expect(heard).toEqual(["marker"]);
  });

  test("enqueueMany inserts every job, one notification per queue", async () => {
    const ids = await queue.enqueueMany([
      { kind: "noop", queue: "a", payload: {} }, { kind: "noop", queue: "a", payload: {} }, { kind: "noop", queue: "b", payload: {} },
    ]);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(3);
    expect(await count()).toBe(3);
    await waitFor("both queues' notifications", () => heard.length >= 2);
    expect(heard.sort()).toEqual(["a", "b"]);
  });

  test("enqueueMany is all or none: one invalid job names its index and nothing is inserted", async () => {
    const jobs: EnqueueParams[] = Array.from({ length: 5 }, () => ({ kind: "noop", payload: {} }));
    jobs[3] = { kind: "noop", payload: {}, priority: 5000 };
    const error = await queue.enqueueMany(jobs).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).field).toBe("jobs[3].priority");
    expect((error as Error).message).toContain("-1000 to 1000");
    expect(await count()).toBe(0);
  });
});

describe("enqueue validation: each bad field is an InputError naming it, and nothing is written", () => {
  const dir = tempDir("claude-jobs-cwd-");
  const cases: [string, EnqueueParams, string][] = [
    ["a queue name with spaces", { kind: "noop", queue: "Bad Queue", payload: {} }, "queue"],
    ["an empty queue name", { kind: "noop", queue: "", payload: {} }, "queue"],
    ["a priority above 1000", { kind: "noop", priority: 1001, payload: {} }, "priority"],
    ["a priority below -1000", { kind: "noop", priority: -1001, payload: {} }, "priority"],
    ["a fractional priority", { kind: "noop", priority: 1.5, payload: {} }, "priority"],
    ["zero max attempts", { kind: "noop", maxAttempts: 0, payload: {} }, "max_attempts"],
    ["max attempts above 1000", { kind: "noop", maxAttempts: 1001, payload: {} }, "max_attempts"],
    ["a delay that is not a duration", { kind: "noop", delay: "5 minutes", payload: {} }, "delay"],
    ["a negative delay", { kind: "noop", delay: -1, payload: {} }, "delay"],
    ["a run_at that is not a time", { kind: "noop", runAt: "tomorrow", payload: {} }, "run_at"],
    ["both run_at and delay", { kind: "noop", runAt: new Date(), delay: "1m", payload: {} }, "run_at"],
    ["a kind in capitals", { kind: "Noop", payload: {} }, "kind"],
    ["a payload that is an array", { kind: "noop", payload: [] as unknown as Record<string, unknown> }, "payload"],
    ["a payload that is a string", { kind: "noop", payload: "x" as unknown as Record<string, unknown> }, "payload"],
    ["a null payload", { kind: "noop", payload: null as unknown as Record<string, unknown> }, "payload"],
    ["an empty concurrency key", { kind: "noop", payload: {}, concurrencyKey: "" }, "concurrency_key"],
    ["a claude job without a prompt", { payload: { cwd: dir } }, "payload.prompt"],
    ["a claude job with an empty prompt", { payload: { prompt: "", cwd: dir } }, "payload.prompt"],
    ["a claude job whose cwd does not exist", { payload: { prompt: "hi", cwd: "/no/such/dir" } }, "payload.cwd"],
    ["a claude job without a cwd", { payload: { prompt: "hi" } }, "payload.cwd"],
    ["a claude job with an unknown key", { payload: { prompt: "hi", cwd: dir, colour: "red" } }, "payload.colour"],
  ];

  for (const [what, params, field] of cases) {
    test(`${what} is refused (${field})`, async () => {
      const error = await queue.enqueue(params).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).field).toBe(field);
      expect((error as Error).message.startsWith(`${field}: `)).toBe(true);
      expect(await count()).toBe(0);
    });
  }

  test("a valid claude job is stored with its cwd made absolute and its directory as concurrency key", async () => {
    const relative = relativePath(process.cwd(), dir);
    const id = await queue.enqueue({ payload: { prompt: "hi", cwd: relative } });
    const job = await queue.get(id);
    expect(job.kind).toBe("claude");
    expect(job.payload.cwd).toBe(dir);
    expect(job.concurrencyKey).toBe(`claude:${dir}`);
  });
});
