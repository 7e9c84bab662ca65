// `resume` by job id: at enqueue, a payload.resume naming an existing job
// becomes that job's recorded Claude session id, and the worker passes it to
// the CLI as --resume=<session>. A job with no session yet is refused, naming
// payload.resume; a UUID that is no job's id is kept as a session id.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../../src/errors.ts";
import { Queue } from "../../src/queue/client.ts";
import { cliEnv, runCli } from "../helpers/cli.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { ClaudeWorkers, tempDir, waitForJob } from "./helpers.ts";

let db: TestDatabase;
let queue: Queue;
const workers = new ClaudeWorkers();
const cwd = tempDir("claude-e2e-cwd-");
const argvFile = join(tempDir("claude-e2e-argv-"), "argv.json");

beforeAll(async () => {
  db = await createTestDatabase();
  queue = new Queue(db.sql);
  await workers.start(db.sql, { queue: "default", concurrency: 1, env: { FAKE_CLAUDE_ARGV_FILE: argvFile } });
});
afterAll(async () => {
  await workers.stopAll();
  await db.drop();
});

async function ran(prompt: string, resume?: string) {
  const id = await queue.enqueue({ maxAttempts: 1, payload: { prompt, cwd, ...(resume ? { resume } : {}) } });
  return waitForJob(queue, id);
}

const jobCount = async () => (await db.sql`SELECT count(*)::int AS n FROM claude_jobs`)[0]!.n as number;

describe("resume by job id", () => {
  test("continues the earlier job's session: stored as its session id and passed to claude as --resume=", async () => {
    const first = await ran("start something");
    const sessionId = first.result!.sessionId as string;
    const second = await ran("go on", first.id);
    expect(second.payload.resume).toBe(sessionId);
    expect(JSON.parse(readFileSync(argvFile, "utf8"))).toContain(`--resume=${sessionId}`);
    expect(second.status).toBe("finished");
    expect(second.result!.sessionId).toBe(sessionId); // the CLI continued that session
  });

  test("a failed run's session can be resumed too (its summary is kept on the job)", async () => {
    const failed = await ran("fake:max-turns");
    expect(failed.status).toBe("failed");
    const next = await ran("finish it", failed.id);
    expect(next.payload.resume).toBe(failed.result!.sessionId);
  });

  test("a job with no session yet is refused, naming payload.resume, and nothing is written", async () => {
    const waiting = await queue.enqueue({ delay: "1h", payload: { prompt: "later", cwd } });
    const before = await jobCount();
    const err = await queue.enqueue({ payload: { prompt: "go on", cwd, resume: waiting } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).field).toBe("payload.resume");
    expect((err as Error).message).toBe(`payload.resume: job ${waiting} has no Claude session yet (it is queued); ` +
      "resume it once it has run, give a session id, or wait for it (after) to continue its session when it finishes");
    const many = await queue.enqueueMany([
      { payload: { prompt: "fine", cwd } },
      { payload: { prompt: "go on", cwd, resume: waiting } },
    ]).catch((e: unknown) => e);
    expect((many as InputError).field).toBe("jobs[1].payload.resume");
    expect(await jobCount()).toBe(before);
    await queue.cancel(waiting);
  });

  test("a UUID that is no job's id is kept as a session id", async () => {
    const session = "6F1D2C3B-0000-4000-8000-00000000ABCD";
    const id = await queue.enqueue({ delay: "1h", payload: { prompt: "resume it", cwd, resume: session } });
    expect((await queue.get(id)).payload.resume).toBe(session.toLowerCase());
    await queue.cancel(id);
  });

  test("works from `claude-jobs enqueue`, and its error is one line, exit 2", async () => {
    const first = await ran("from the cli");
    const env = cliEnv();
    const ok = await runCli(["enqueue", `--payload=${JSON.stringify({ prompt: "more", cwd, resume: first.id })}`, `--delay=1h`, `--database-url=${db.url}`], { env });
    expect(ok.code).toBe(0);
    expect((await queue.get(ok.stdout.trim())).payload.resume).toBe(first.result!.sessionId);
    const pending = ok.stdout.trim();
    const bad = await runCli(["enqueue", `--payload=${JSON.stringify({ prompt: "more", cwd, resume: pending })}`, `--database-url=${db.url}`], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(`claude-jobs enqueue: payload.resume: job ${pending} has no Claude session yet (it is queued); ` +
      "resume it once it has run, give a session id, or wait for it (after) to continue its session when it finishes\n");
    await queue.cancel(pending);
  });
});

describe("resume of a job it waits for", () => {
  test("a child enqueued after its parent, resuming it, gets the parent's final session when released", async () => {
    // The parent is delayed, so the child is enqueued while it has no session at all.
    const parent = await queue.enqueue({ maxAttempts: 1, delay: "1h", payload: { prompt: "start", cwd } });
    const child = await queue.submit({ maxAttempts: 1, after: [parent], payload: { prompt: "continue it", cwd, resume: parent } });
    expect(child.status).toBe("waiting");
    expect((await queue.get(child.id)).payload.resume).toBe(parent); // resolved at release, not now
    await queue.runNow(parent);
    const done = await waitForJob(queue, parent);
    const next = await waitForJob(queue, child.id);
    expect(next.payload.resume).toBe(done.result!.sessionId);
    expect(JSON.parse(readFileSync(argvFile, "utf8"))).toContain(`--resume=${done.result!.sessionId}`);
    expect(next.status).toBe("finished");
  });
});
