// Unique jobs: while a job with a key is in one of its unique states,
// enqueueing another with the key inserts nothing and returns the holder.
// Held by a partial unique index, so it holds for concurrent enqueuers in
// many processes, not only for one.

import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { Queue } from "../../src/queue/client.ts";
import { InputError } from "../../src/errors.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { REPO, spawnChild } from "../helpers/engine.ts";
import { tempDir } from "../helpers/cli.ts";

setDefaultTimeout(60_000);

let db: TestDatabase;
let queue: Queue;

beforeAll(async () => {
  db = await createTestDatabase();
  queue = new Queue(db.sql);
});
afterAll(() => db.drop());

const count = async (key: string) =>
  (await db.sql`SELECT count(*)::int AS n FROM claude_jobs WHERE unique_key = ${key}`)[0]!.n as number;

describe("unique keys", () => {
  test("a second job with a held key is a duplicate of the first: nothing inserted, the holder's id and status", async () => {
    const first = await queue.submit({ kind: "x", payload: { n: 1 }, uniqueKey: "report:daily" });
    expect(first).toEqual({ id: expect.any(String), duplicate: false, status: "queued" });
    const second = await queue.submit({ kind: "x", payload: { n: 2 }, uniqueKey: "report:daily" });
    expect(second).toEqual({ id: first.id, duplicate: true, status: "queued" });
    expect(await queue.enqueue({ kind: "x", payload: {}, uniqueKey: "report:daily" })).toBe(first.id);
    expect(await count("report:daily")).toBe(1);
  });

  test("by default the key is free again once the holder ends; with finished among the states it stays taken", async () => {
    const a = await queue.enqueue({ kind: "x", payload: {}, uniqueKey: "free-after" });
    const b = await queue.enqueue({ kind: "x", payload: {}, uniqueKey: "kept", uniqueStates: ["queued", "running", "finished"] });
    await db.sql`UPDATE claude_jobs SET status = 'finished', finished_at = now() WHERE id IN (${a}, ${b})`;
    const again = await queue.submit({ kind: "x", payload: {}, uniqueKey: "free-after" });
    expect(again.duplicate).toBe(false);
    expect(again.id).not.toBe(a);
    const kept = await queue.submit({ kind: "x", payload: {}, uniqueKey: "kept", uniqueStates: ["queued", "running", "finished"] });
    expect(kept).toEqual({ id: b, duplicate: true, status: "finished" });
    // A failed holder does not keep "kept" taken (failed is not among its states).
    await db.sql`UPDATE claude_jobs SET status = 'failed' WHERE id = ${b}`;
    expect((await queue.submit({ kind: "x", payload: {}, uniqueKey: "kept" })).duplicate).toBe(false);
  });

  test("a running holder counts, and moving between queued and running never meets a duplicate", async () => {
    const id = await queue.enqueue({ kind: "x", payload: {}, uniqueKey: "live" });
    await db.sql`UPDATE claude_jobs SET status = 'running', worker_id = 1, started_at = now(), attempts = 1 WHERE id = ${id}`;
    expect(await queue.submit({ kind: "x", payload: {}, uniqueKey: "live" })).toEqual({ id, duplicate: true, status: "running" });
    await db.sql`UPDATE claude_jobs SET status = 'queued', worker_id = NULL WHERE id = ${id}`; // a retry
    expect(await count("live")).toBe(1);
  });

  test("in one bulk enqueue, later jobs with a key taken earlier in the batch are duplicates of it", async () => {
    const outcomes = await queue.submitMany([
      { kind: "x", payload: {}, uniqueKey: "bulk-a" },
      { kind: "x", payload: {}, uniqueKey: "bulk-b" },
      { kind: "x", payload: {}, uniqueKey: "bulk-a" },
      { kind: "x", payload: {} },
    ]);
    expect(outcomes.map((o) => o.duplicate)).toEqual([false, false, true, false]);
    expect(outcomes[2]!.id).toBe(outcomes[0]!.id);
    expect(await count("bulk-a")).toBe(1);
  });

  test("bad keys and states are refused naming the field, and nothing is written", async () => {
    const before = (await db.sql`SELECT count(*)::int AS n FROM claude_jobs`)[0]!.n;
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ uniqueKey: "" }, "unique_key", /non-empty string/],
      [{ uniqueKey: "x".repeat(1001) }, "unique_key", /at most 1000/],
      [{ uniqueKey: "k", uniqueStates: ["finished"] }, "unique_states", /must include queued and running/],
      [{ uniqueKey: "k", uniqueStates: ["queued", "running", "done"] }, "unique_states[2]", /must be one of/],
      [{ uniqueStates: ["queued", "running"] }, "unique_states", /needs a unique key/],
    ];
    for (const [extra, field, message] of cases) {
      const e = await queue.enqueue({ kind: "x", payload: {}, ...extra }).catch((x) => x);
      expect(e).toBeInstanceOf(InputError);
      expect((e as InputError).field).toBe(field);
      expect((e as InputError).message).toMatch(message);
    }
    expect((await db.sql`SELECT count(*)::int AS n FROM claude_jobs`)[0]!.n).toBe(before);
  });

  test("six processes enqueueing the same twenty keys at the same instant: one job per key, and every caller told which", async () => {
    const dir = tempDir("unique-race-");
    const go = join(dir, "go");
    const script = join(REPO, "tests/engine/fixtures/enqueue-unique.ts");
    const children = Array.from({ length: 6 }, (_, i) =>
      spawnChild([process.execPath, script], { ...process.env, DATABASE_URL: db.url, KEYS: "20", GO: go, BULK: i % 2 ? "1" : "0" }));
    await Bun.sleep(500); // let them connect and wait for the start
    writeFileSync(go, "");
    const codes = await Promise.all(children.map((c) => c.exited));
    expect(codes).toEqual([0, 0, 0, 0, 0, 0]);
    const outcomes = children.flatMap((c) => JSON.parse(c.stdout().trim()) as { key: string; id: string; duplicate: boolean }[]);
    expect(outcomes).toHaveLength(120);

    const rows = await db.sql`SELECT unique_key, id FROM claude_jobs WHERE unique_key ~ '^k[0-9]+$'`;
    expect(rows).toHaveLength(20);
    const idOf = new Map(rows.map((r) => [r.unique_key as string, r.id as string]));
    for (let k = 0; k < 20; k++) {
      const mine = outcomes.filter((o) => o.key === `k${k}`);
      // Everyone got the one job's id; exactly one caller inserted it.
      expect(new Set(mine.map((o) => o.id))).toEqual(new Set([idOf.get(`k${k}`)!]));
      expect(mine.filter((o) => !o.duplicate)).toHaveLength(1);
    }
  });
});
