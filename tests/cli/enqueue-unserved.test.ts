// A job no live worker would run waits in silence: enqueue says so on stderr
// (stdout stays the job's id), and says nothing when a worker serves it.

import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { FAST, WorkerPool } from "../helpers/engine.ts";
import { runCli } from "../helpers/cli.ts";

let db: TestDatabase;
const pool = new WorkerPool();
beforeAll(async () => { db = await createTestDatabase(); });
afterEach(() => pool.stopAll());
afterAll(() => db.drop());

const enqueue = (kind: string, queue: string) =>
  runCli(["enqueue", `--kind=${kind}`, `--queue=${queue}`, "--payload={}", "--delay=1h", `--database-url=${db.url}`]);

test("enqueue warns when no live worker handles the kind on the queue, and not when one does", async () => {
  const alone = await enqueue("mail", "outbox");
  expect(alone.code).toBe(0);
  expect(alone.stdout.trim()).toMatch(/^[0-9a-f-]{36}$/);
  expect(alone.stderr).toContain('no live worker handles kind "mail" on queue "outbox"');

  await pool.start({ sql: db.sql, ...FAST, queues: ["outbox"], handlers: { mail: async () => {} } });
  const served = await enqueue("mail", "outbox");
  expect(served.code).toBe(0);
  expect(served.stderr).toBe("");
  // Served queue, unknown kind: still a warning.
  expect((await enqueue("resize", "outbox")).stderr).toContain('kind "resize" on queue "outbox"');
});

test("stats names the queued jobs no live worker handles (and --json lists them as unserved)", async () => {
  await db.sql`DELETE FROM claude_jobs`;
  await enqueue("nobody", "lonely");
  const human = await runCli(["stats", `--database-url=${db.url}`]);
  expect(human.code).toBe(0);
  expect(human.stdout).toContain('1 queued job(s) of kind "nobody" in queue "lonely": no live worker handles this kind on this queue');
  const json = JSON.parse((await runCli(["stats", "--json", `--database-url=${db.url}`])).stdout);
  expect(json.unserved).toEqual([{ queue: "lonely", kind: "nobody", jobs: 1 }]);
  await pool.start({ sql: db.sql, ...FAST, queues: ["lonely"], handlers: { nobody: async () => {} } });
  await db.sql`UPDATE claude_jobs SET run_at = now() + interval '1 hour'`; // keep it queued while the worker runs
  expect(JSON.parse((await runCli(["stats", "--json", `--database-url=${db.url}`])).stdout).unserved).toEqual([]);
});
