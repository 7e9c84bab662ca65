// A job whose kind no live worker handles (on its queue) would wait in
// silence: the database says which jobs no live worker would claim.

import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { jobUnserved, workerListLive, workersServe } from "../../src/db/workers.ts";
import { Queue } from "../../src/queue/client.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { FAST, WorkerPool } from "../helpers/engine.ts";

let db: TestDatabase;
let queue: Queue;
const pool = new WorkerPool();
beforeAll(async () => { db = await createTestDatabase(); queue = new Queue(db.sql); });
afterEach(() => pool.stopAll());
afterAll(() => db.drop());

test("queued jobs no live worker serves (kind or queue) are counted; a worker that serves them removes them", async () => {
  await queue.enqueueMany([
    { kind: "mail", queue: "mail", payload: {}, delay: "1h" },
    { kind: "mail", queue: "mail", payload: {}, delay: "1h" },
    { kind: "resize", queue: "mail", payload: {}, delay: "1h" },
    { kind: "mail", queue: "other", payload: {}, delay: "1h" },
  ]);
  expect(await jobUnserved(db.sql)).toEqual([
    { queue: "mail", kind: "mail", jobs: 2 }, { queue: "mail", kind: "resize", jobs: 1 }, { queue: "other", kind: "mail", jobs: 1 },
  ]);
  await pool.start({ sql: db.sql, ...FAST, queues: ["mail"], handlers: { mail: async () => {} } });
  expect(await jobUnserved(db.sql)).toEqual([{ queue: "mail", kind: "resize", jobs: 1 }, { queue: "other", kind: "mail", jobs: 1 }]);
  const live = await workerListLive(db.sql);
  expect(live[0]!.kinds).toEqual(["mail"]);
  expect(workersServe(live, "mail", "mail")).toBe(true);
  expect(workersServe(live, "mail", "resize")).toBe(false);
  expect(workersServe(live, "other", "mail")).toBe(false);
  await pool.start({ sql: db.sql, ...FAST, queues: ["*"], handlers: { mail: async () => {}, resize: async () => {} } });
  expect(await jobUnserved(db.sql)).toEqual([]);
});
