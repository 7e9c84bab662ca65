// Per-key mutual exclusion: jobs sharing a concurrency_key never run at the
// same time, across workers, while jobs with different keys run in parallel.

import { afterAll, afterEach, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { Queue } from "../../src/queue/client.ts";
import type { HandlerContext } from "../../src/handlers/types.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { WorkerPool } from "../helpers/engine.ts";
import { waitFor } from "../helpers/wait.ts";

// Generous: the suite shares a small machine; waits inside tests have their own deadlines.
setDefaultTimeout(30_000);

let db: TestDatabase;
const pool = new WorkerPool();

interface Span { key: string | null; start: number; end: number }
const spans: Span[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});
afterEach(() => pool.stopAll());
afterAll(() => db.drop());

const overlaps = (a: Span, b: Span) => a.start < b.end && b.start < a.end;

async function timed({ job }: HandlerContext) {
  const start = performance.now();
  await Bun.sleep(80);
  spans.push({ key: job.concurrencyKey, start, end: performance.now() });
}

describe("concurrency keys", () => {
  test("jobs with one key run one at a time across two workers; other keys run alongside", async () => {
    const jobs = [
      ...Array.from({ length: 6 }, () => ({ kind: "timed", payload: {}, concurrencyKey: "repo-a" })),
      ...Array.from({ length: 6 }, () => ({ kind: "timed", payload: {}, concurrencyKey: "repo-b" })),
      ...Array.from({ length: 4 }, () => ({ kind: "timed", payload: {}, concurrencyKey: null })),
    ];
    await new Queue(db.sql).enqueueMany(jobs);
    await Promise.all([
      pool.start({ sql: db.sql, handlers: { timed }, concurrency: 4 }),
      pool.start({ sql: db.sql, handlers: { timed }, concurrency: 4 }),
    ]);
    await waitFor("every job to finish", async () => {
      const [row] = await db.sql`SELECT count(*)::int AS n FROM claude_jobs WHERE status = 'finished'`;
      return row!.n === jobs.length;
    }, { timeoutMs: 20_000 });

    for (const key of ["repo-a", "repo-b"]) {
      const same = spans.filter((s) => s.key === key);
      expect(same).toHaveLength(6);
      for (const [i, a] of same.entries()) for (const b of same.slice(i + 1)) expect(overlaps(a, b)).toBe(false);
    }
    const a = spans.filter((s) => s.key === "repo-a");
    const b = spans.filter((s) => s.key === "repo-b");
    expect(a.some((x) => b.some((y) => overlaps(x, y)))).toBe(true);
    const free = spans.filter((s) => s.key === null);
    expect(free.some((x) => free.some((y) => x !== y && overlaps(x, y)))).toBe(true);
  });

  test("the database refuses a second running job with the same key", async () => {
    const queue = new Queue(db.sql);
    const [one, two] = await queue.enqueueMany([
      { kind: "x", payload: {}, concurrencyKey: "k" }, { kind: "x", payload: {}, concurrencyKey: "k" },
    ]);
    await db.sql`UPDATE claude_jobs SET status = 'running', worker_id = 1, started_at = now(), attempts = 1, concurrency_slot = 0 WHERE id = ${one!}`;
    const second = db.sql`UPDATE claude_jobs SET status = 'running', worker_id = 1, started_at = now(), attempts = 1, concurrency_slot = 0 WHERE id = ${two!}`;
    await expect(second).rejects.toThrow(/claude_jobs_running_slot/);
    // Nor can a running keyed job hold no slot, or a slot beyond its key's limit.
    const slotless = db.sql`UPDATE claude_jobs SET status = 'running', worker_id = 1, started_at = now(), attempts = 1 WHERE id = ${two!}`;
    await expect(slotless).rejects.toThrow(/claude_jobs_slot_when_running/);
    const beyond = db.sql`UPDATE claude_jobs SET status = 'running', worker_id = 1, started_at = now(), attempts = 1, concurrency_slot = 1 WHERE id = ${two!}`;
    await expect(beyond).rejects.toThrow(/claude_jobs_slot_range/);
  });
});
