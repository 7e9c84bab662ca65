// What postgres.js 3.4.9 does when a connection is lost, and why the worker
// runs its claims and its lock on a session of its own, outside any
// transaction (src/db/session.ts, src/db/jobs.ts jobClaim). The first test
// pins the driver's bug: if a new postgres.js fixes it, it fails, and the
// workaround can be revisited.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { REPO } from "../helpers/engine.ts";

let db: TestDatabase;
beforeAll(async () => { db = await createTestDatabase(); });
afterAll(() => db.drop());

async function runScript(name: string) {
  const proc = Bun.spawn([process.execPath, join(REPO, "tests/fixtures/postgres-js", name)], {
    env: { ...process.env, DATABASE_URL: db.url }, stdout: "pipe", stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout: stdout.trim(), stderr, code };
}

test("postgres.js 3.4.9 writes ROLLBACK to the closed socket of a lost transaction and throws from a timer", async () => {
  const { stdout, stderr } = await runScript("lost-transaction.ts");
  expect(stdout).toBe("rejected CONNECTION_CLOSED");
  expect(stderr).toContain("evaluating 'socket.write'");
});

test("the worker's lock session, its backend terminated: onclose at once, nothing thrown, a new session next", async () => {
  const { stdout, stderr, code } = await runScript("lost-lock-session.ts");
  expect(code).toBe(0);
  expect(JSON.parse(stdout)).toEqual({ closes: 1, newSession: true });
  expect(stderr).not.toContain("socket.write");
});
