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
