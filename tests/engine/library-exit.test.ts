// A program that uses claude-jobs as a library ends when its work is done:
// after worker.stop() and sql.end() nothing of ours (a shutdown timer, the
// lock session, the job guard) may keep the process alive. The shutdown
// timeout is 30 s, so a timer left behind would hold it for 30 s.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { REPO } from "../helpers/engine.ts";

let db: TestDatabase;
beforeAll(async () => { db = await createTestDatabase(); });
afterAll(() => db.drop());

test("the README's library example exits by itself once the worker is stopped and the pool ended", async () => {
  const proc = Bun.spawn([process.execPath, join(REPO, "tests/fixtures/library-script.ts")], {
    env: { ...process.env, DATABASE_URL: db.url }, stdout: "pipe", stderr: "pipe",
  });
  // Well under the 30 s a leftover shutdown timer would hold the process.
  const deadline = setTimeout(() => proc.kill("SIGKILL"), 20_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(deadline);
  expect({ code, signal: proc.signalCode, stderr }).toEqual({ code: 0, signal: null, stderr: "" });
  expect(JSON.parse(stdout)).toEqual({ done: expect.any(String) });
}, 30_000);
