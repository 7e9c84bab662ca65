// Fifty Claude jobs at once in one worker process, each printing megabytes:
// all finish, and the worker's memory does not grow with their output (it is
// streamed to the log files, never buffered). The peak is the kernel's VmHWM
// of the worker process, read while it is still alive.

import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { Queue } from "../../src/queue/client.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { killCliWorkers, peakRssMb, startCliWorker, tempDir, waitForJob, type CliWorker } from "./helpers.ts";

const JOBS = 50;
const OUTPUT_MB = 10;
/** Generous: a worker idles at ~60-80 MB; the jobs print 500 MB between them. */
const RSS_BOUND_MB = 300;

const NICE_CLAUDE = join(import.meta.dir, "fixtures/nice-claude");

let db: TestDatabase;
let queue: Queue;
const started: CliWorker[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  queue = new Queue(db.sql);
});
afterEach(() => killCliWorkers(started));
afterAll(() => db.drop());

test(`${JOBS} Claude jobs at once, ${OUTPUT_MB} MB of output each: all finish, worker RSS stays under ${RSS_BOUND_MB} MB`, async () => {
  const w = await startCliWorker(db.url, [`--concurrency=${JOBS}`, `--claude-path=${NICE_CLAUDE}`]);
  started.push(w);
  const ids = await queue.enqueueMany(Array.from({ length: JOBS }, (_, i) => ({
    payload: { prompt: `fake:sleep=1s fake:big=${OUTPUT_MB}MB job ${i}`, cwd: tempDir("claude-e2e-load-") },
  })));
  // All run at once: every job is running before the first one has finished.
  await waitForJob(queue, ids[0]!, () => true);
  const jobs = await Promise.all(ids.map((id) => waitForJob(queue, id, undefined, 120_000)));
  const peak = peakRssMb(w.pid);

  for (const j of jobs) expect(j.status).toBe("finished");
  const firstEnd = Math.min(...jobs.map((j) => j.finishedAt!.getTime()));
  expect(jobs.filter((j) => j.startedAt!.getTime() < firstEnd)).toHaveLength(JOBS);

  const written = jobs.reduce((sum, j) => sum + statSync(j.result!.stdoutLog as string).size, 0);
  expect(written).toBeGreaterThan(JOBS * OUTPUT_MB * 2 ** 20);
  console.log(`worker peak RSS ${peak.toFixed(0)} MB for ${(written / 2 ** 20).toFixed(0)} MB of output`);
  expect(peak).toBeLessThan(RSS_BOUND_MB);
  // Responsive throughout: it never failed to prove its lock, nor lost a write.
  expect(w.stderr()).not.toContain("lost its database lock");
  expect(w.stderr()).not.toContain("worker error");
  expect(await w.stop()).toBe(0);
}, 180_000);
