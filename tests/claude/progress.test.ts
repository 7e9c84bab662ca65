// A running Claude job shows its session id before it ends: the handler
// reports it as progress, the worker merges it into the job's result (fenced
// like a completion), so the dashboard shows it and `resume` can use it.

import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { Queue } from "../../src/queue/client.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { ClaudeWorkers, tempDir, waitForJob } from "./helpers.ts";

let db: TestDatabase;
let queue: Queue;
const workers = new ClaudeWorkers();
const cwd = tempDir("claude-progress-cwd-");

beforeAll(async () => {
  db = await createTestDatabase();
  queue = new Queue(db.sql);
});
afterEach(() => workers.stopAll());
afterAll(() => db.drop());

test("the session id is on the running job, and a new job can resume it by the running job's id", async () => {
  await workers.start(db.sql, { queue: "progress" });
  const id = await queue.enqueue({ queue: "progress", payload: { prompt: "take a while fake:sleep=3s", cwd } });
  const running = await waitForJob(queue, id, (j) => j.status === "running" && typeof j.result?.sessionId === "string");
  const sessionId = running.result!.sessionId as string;
  const next = await queue.enqueue({ queue: "later", payload: { prompt: "go on", cwd, resume: id } });
  expect((await queue.get(next)).payload.resume).toBe(sessionId);
  const done = await waitForJob(queue, id);
  expect(done.status).toBe("finished");
  expect(done.result!.sessionId).toBe(sessionId);
});
