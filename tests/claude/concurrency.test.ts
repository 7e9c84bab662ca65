// One running Claude job per working directory, enforced by the claim query
// through the job's concurrency key (the cwd's realpath): two jobs on one cwd
// never overlap, `exclusive: false` opts out, and different cwds run in
// parallel. Read back from the jobs' started_at / finished_at.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import type { JobRecord } from "../../src/handlers/types.ts";
import { Queue } from "../../src/queue/client.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { ClaudeWorkers, tempDir, waitForJob } from "./helpers.ts";

let db: TestDatabase;
let queue: Queue;
const workers = new ClaudeWorkers();
const RUN = "fake:sleep=800ms";

beforeAll(async () => {
  db = await createTestDatabase();
  queue = new Queue(db.sql);
  await workers.start(db.sql, { queue: "default", concurrency: 10 });
});
afterAll(async () => {
  await workers.stopAll();
  await db.drop();
});

type Span = { start: number; end: number };
const span = (j: JobRecord): Span => ({ start: j.startedAt!.getTime(), end: j.finishedAt!.getTime() });
/** Whether every two runs shared some time: all started before the first one ended. */
const allOverlap = (s: Span[]) => Math.max(...s.map((x) => x.start)) < Math.min(...s.map((x) => x.end));
const noneOverlap = (s: Span[]) => [...s].sort((a, b) => a.start - b.start).every((x, i, all) => i === 0 || all[i - 1]!.end <= x.start);

async function runAll(payloads: Record<string, unknown>[]): Promise<JobRecord[]> {
  const ids = await queue.enqueueMany(payloads.map((payload) => ({ payload })));
  return Promise.all(ids.map((id) => waitForJob(queue, id, undefined, 30_000)));
}

test("jobs on one cwd run one at a time (also through a symlink); exclusive: false and other cwds run in parallel", async () => {
  const shared = tempDir("claude-e2e-shared-");
  const link = join(tempDir("claude-e2e-link-"), "checkout");
  symlinkSync(shared, link);
  const loose = tempDir("claude-e2e-loose-");
  const separate = [tempDir("claude-e2e-a-"), tempDir("claude-e2e-b-"), tempDir("claude-e2e-c-")];

  const jobs = await runAll([
    { prompt: `${RUN} shared 1`, cwd: shared },
    { prompt: `${RUN} shared 2`, cwd: link },
    { prompt: `${RUN} shared 3`, cwd: shared },
    ...[1, 2, 3].map((n) => ({ prompt: `${RUN} loose ${n}`, cwd: loose, exclusive: false })),
    ...separate.map((cwd, n) => ({ prompt: `${RUN} separate ${n}`, cwd })),
  ]);
  for (const j of jobs) expect(j.status).toBe("finished");

  const sharedJobs = jobs.slice(0, 3);
  expect(new Set(sharedJobs.map((j) => j.concurrencyKey))).toEqual(new Set([`claude:${shared}`]));
  expect(noneOverlap(sharedJobs.map(span))).toBe(true);

  const looseJobs = jobs.slice(3, 6);
  for (const j of looseJobs) expect(j.concurrencyKey).toBeNull();
  expect(allOverlap(looseJobs.map(span))).toBe(true);

  const separateJobs = jobs.slice(6);
  expect(new Set(separateJobs.map((j) => j.concurrencyKey)).size).toBe(3);
  expect(allOverlap(separateJobs.map(span))).toBe(true);
}, 60_000);
