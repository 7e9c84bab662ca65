// Concurrency keys with a limit of N: at most N jobs with one key run at once,
// held by the database across worker processes; a full key never blocks the
// jobs behind it; the limit is used, not just 1.

import { afterAll, afterEach, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { Queue } from "../../src/queue/client.ts";
import { InputError } from "../../src/errors.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createRunsTable, killAll, startWorkerProcess, type WorkerProcess } from "../helpers/worker-process.ts";
import { waitFor } from "../helpers/wait.ts";

setDefaultTimeout(60_000);

let db: TestDatabase;
const children: WorkerProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  await createRunsTable(db.sql);
});
afterEach(() => killAll(children));
afterAll(() => db.drop());

interface Run { job_id: string; key: string | null; started: number; ended: number }

/** The most runs that overlapped at any instant, from their start and end times. */
function maxOverlap(runs: Run[]): number {
  const edges = runs.flatMap((r) => [[r.started, 1], [r.ended, -1]] as const)
    // At equal times an end comes before a start: a slot freed and taken at once is not two.
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, d] of edges) most = Math.max(most, (now += d));
  return most;
}

async function runsOf(): Promise<Run[]> {
  const rows = await db.sql`
    SELECT r.job_id, j.concurrency_key AS key,
           extract(epoch FROM r.started_at) * 1000 AS started, extract(epoch FROM r.ended_at) * 1000 AS ended
    FROM test_runs r JOIN claude_jobs j ON j.id = r.job_id`;
  return rows.map((r) => ({ job_id: r.job_id, key: r.key, started: Number(r.started), ended: Number(r.ended) }));
}

describe("concurrency limit", () => {
  test("three worker processes never run more than N jobs of a key, use all N, and run the jobs behind a full key", async () => {
    const queue = new Queue(db.sql);
    // The keyed jobs come first in claim order (higher priority): the
    // unkeyed ones behind them must still run while the key is full.
    await queue.enqueueMany([
      ...Array.from({ length: 24 }, () => ({ kind: "record", payload: { sleepMs: 150 }, priority: 10, concurrencyKey: "repo", concurrencyLimit: 3 })),
      ...Array.from({ length: 8 }, () => ({ kind: "record", payload: { sleepMs: 150 }, priority: 10, concurrencyKey: "other", concurrencyLimit: 2 })),
      ...Array.from({ length: 12 }, () => ({ kind: "record", payload: { sleepMs: 50 } })),
    ]);
    for (let i = 0; i < 3; i++) children.push(await startWorkerProcess(db.url, { CONCURRENCY: "5" }));
    await waitFor("every job to finish", async () => {
      const [row] = await db.sql`SELECT count(*)::int AS n FROM claude_jobs WHERE status = 'finished'`;
      return row!.n === 44;
    }, { timeoutMs: 45_000 });

    const runs = await runsOf();
    expect(runs).toHaveLength(44); // none ran twice
    const repo = runs.filter((r) => r.key === "repo");
    const other = runs.filter((r) => r.key === "other");
    const free = runs.filter((r) => r.key === null);
    expect(maxOverlap(repo)).toBeLessThanOrEqual(3);
    expect(maxOverlap(other)).toBeLessThanOrEqual(2);
    // The limit is a limit, not a mutex: with 15 slots among the workers it is reached.
    expect(maxOverlap(repo)).toBe(3);
    expect(maxOverlap(other)).toBe(2);
    // The unkeyed jobs did not wait for the keyed backlog to drain.
    const lastKeyedStart = Math.max(...repo.map((r) => r.started));
    expect(Math.max(...free.map((r) => r.ended))).toBeLessThan(lastKeyedStart);
    // Slots are released: nothing holds one now.
    const [held] = await db.sql`SELECT count(*)::int AS n FROM claude_jobs WHERE concurrency_slot IS NOT NULL`;
    expect(held!.n).toBe(0);
  });

  test("a limit needs a key, and is 1-10000; nothing is written", async () => {
    const queue = new Queue(db.sql);
    const before = await db.sql`SELECT count(*)::int AS n FROM claude_jobs`;
    await expect(queue.enqueue({ kind: "record", payload: {}, concurrencyLimit: 2 })).rejects.toThrow(/concurrency_limit: needs a concurrency key/);
    for (const bad of [0, 10_001, 1.5]) {
      const e = await queue.enqueue({ kind: "record", payload: {}, concurrencyKey: "k", concurrencyLimit: bad }).catch((x) => x);
      expect(e).toBeInstanceOf(InputError);
      expect((e as InputError).field).toBe("concurrency_limit");
    }
    const after = await db.sql`SELECT count(*)::int AS n FROM claude_jobs`;
    expect(after[0]!.n).toBe(before[0]!.n);
  });

  test("the database holds N even against claims written by hand: slot N+1 does not exist", async () => {
    const queue = new Queue(db.sql);
    const ids = await queue.enqueueMany(Array.from({ length: 3 }, () => ({ kind: "x", payload: {}, concurrencyKey: "hand", concurrencyLimit: 2 })));
    const claim = (id: string, slot: number) =>
      db.sql`UPDATE claude_jobs SET status = 'running', worker_id = 1, started_at = now(), attempts = 1, concurrency_slot = ${slot} WHERE id = ${id}`;
    await claim(ids[0]!, 0);
    await claim(ids[1]!, 1);
    await expect(claim(ids[2]!, 0)).rejects.toThrow(/claude_jobs_running_slot/);
    await expect(claim(ids[2]!, 1)).rejects.toThrow(/claude_jobs_running_slot/);
    await expect(claim(ids[2]!, 2)).rejects.toThrow(/claude_jobs_slot_range/);
  });
});

describe("the claude kind's own limit", () => {
  test("a Queue that knows only the built-in validators gives worktree jobs their repository's limit of 3, others 1", async () => {
    const { mkdtempSync, realpathSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const repo = realpathSync(mkdtempSync(join(tmpdir(), "limit-repo-")));
    const git = (...args: string[]) => Bun.spawnSync(["git", "-C", repo, ...args], { env: { ...process.env, HOME: repo, GIT_CONFIG_NOSYSTEM: "1" } });
    git("init", "-q");
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "init");
    const queue = new Queue(db.sql);
    const inTree = await queue.get(await queue.enqueue({ kind: "claude", payload: { prompt: "p", cwd: repo, worktree: true } }));
    expect(inTree.concurrencyKey).toStartWith("claude:repo:");
    expect(inTree.concurrencyLimit).toBe(3);
    const plain = await queue.get(await queue.enqueue({ kind: "claude", payload: { prompt: "p", cwd: repo } }));
    expect(plain.concurrencyLimit).toBe(1);
    const chosen = await queue.get(await queue.enqueue({ kind: "claude", payload: { prompt: "p", cwd: repo, worktree: true }, concurrencyLimit: 5 }));
    expect(chosen.concurrencyLimit).toBe(5);
  });
});
