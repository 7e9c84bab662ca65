// The notify command: run for each job a worker ends, with the event's JSON
// on stdin; killed with its process group after its timeout; a failure is
// logged; and a slow command never holds up the worker's jobs.

import { afterAll, afterEach, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Queue } from "../../src/queue/client.ts";
import { ParkJobError, PermanentJobError } from "../../src/handlers/types.ts";
import { attachNotifyCommand, NotifyCommand } from "../../src/notify/command.ts";
import { eventBody } from "../../src/notify/event.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { WorkerPool } from "../helpers/engine.ts";
import { tempDir } from "../helpers/cli.ts";
import { waitFor } from "../helpers/wait.ts";

setDefaultTimeout(30_000);

let db: TestDatabase;
let queue: Queue;
const pool = new WorkerPool();

beforeAll(async () => {
  db = await createTestDatabase();
  queue = new Queue(db.sql);
});
afterEach(() => pool.stopAll());
afterAll(() => db.drop());

const sample = eventBody({ jobId: "00000000-0000-4000-8000-000000000001", event: "failed", kind: "noop", queue: "default", status: "failed", error: "boom", occurredAt: new Date() }, null, null);

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("NotifyCommand", () => {
  test("gets the event's JSON on stdin and its name in CLAUDE_JOBS_EVENT; the queue's credentials are not in its environment", async () => {
    const dir = tempDir("claude-jobs-notify-");
    const log: string[] = [];
    const command = new NotifyCommand({
      command: `cat > ${dir}/in.json; echo "$CLAUDE_JOBS_EVENT $CLAUDE_JOBS_JOB_ID \${DATABASE_URL:-none} \${CLAUDE_JOBS_WEBHOOK_SECRET:-none}" > ${dir}/env.txt`,
      log: (l) => log.push(l), env: { PATH: process.env.PATH, DATABASE_URL: "postgres://secret", CLAUDE_JOBS_WEBHOOK_SECRET: "shh" },
    });
    const run = await command.run(sample);
    expect(run).toEqual({ exitCode: 0, signal: null, timedOut: false });
    expect(JSON.parse(readFileSync(join(dir, "in.json"), "utf8"))).toEqual(JSON.parse(JSON.stringify(sample)));
    expect(readFileSync(join(dir, "env.txt"), "utf8").trim()).toBe(`job.failed ${sample.job.id} none none`);
    expect(log).toEqual([]);
  });

  test("a command that outlives its timeout is killed with everything it started, and that is logged", async () => {
    const dir = tempDir("claude-jobs-notify-");
    const log: string[] = [];
    const command = new NotifyCommand({ command: `sleep 30 & echo $! > ${dir}/child.pid; wait`, timeoutMs: 300, log: (l) => log.push(l) });
    const started = Date.now();
    const run = await command.run(sample);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(run.timedOut).toBe(true);
    expect(log.join("\n")).toContain("killed after");
    const pid = Number(readFileSync(join(dir, "child.pid"), "utf8"));
    await waitFor("the command's child to be gone", () => !isAlive(pid), { timeoutMs: 3000 });
  });

  test("a failing command is logged with its exit code and the end of its stderr", async () => {
    const log: string[] = [];
    const run = await new NotifyCommand({ command: "echo 'no display' >&2; exit 3", log: (l) => log.push(l) }).run(sample);
    expect(run.exitCode).toBe(3);
    expect(log).toHaveLength(1);
    expect(log[0]).toContain("exit code 3");
    expect(log[0]).toContain("no display");
  });
});

describe("attached to a worker", () => {
  test("runs once for each job the worker ends (finished, failed) or parks, never for a plain retry, and a slow command does not hold up the jobs", async () => {
    const dir = tempDir("claude-jobs-notify-");
    const log: string[] = [];
    // Each run writes its event, then sleeps: far longer than the jobs take.
    const command = new NotifyCommand({ command: `f=$(mktemp ${dir}/event-XXXXXX); cat > "$f"; sleep 3`, timeoutMs: 10_000, log: (l) => log.push(l) });
    const worker = await pool.start({
      sql: db.sql, maintenance: [],
      handlers: {
        noop: async () => {},
        fail: async () => { throw new PermanentJobError("no luck"); },
        park: async ({ job }) => {
          if (job.result?.usageLimit) return; // the run after the reset
          throw new ParkJobError("waiting for the usage limit to reset at 20:00", {
            delayMs: 60_000, result: { usageLimit: { resetsAt: "2026-12-02T20:00:00.000Z", reason: "waiting for the usage limit to reset at 20:00", parkedAt: new Date().toISOString() } },
          });
        },
        flaky: async ({ job }) => { if (job.attempts === 1) throw new Error("once"); },
      },
    });
    attachNotifyCommand(worker, db.sql, command, "https://jobs.example.com", (l) => log.push(l));
    const ids = await queue.enqueueMany([
      ...Array.from({ length: 5 }, () => ({ kind: "noop", payload: {} })),
      { kind: "fail", payload: {}, maxAttempts: 1 },
      { kind: "park", payload: {} },
      { kind: "flaky", payload: {}, maxAttempts: 2 },
    ]);
    const started = Date.now();
    await waitFor("every job to end", async () => {
      const rows = await db.sql`SELECT count(*)::int AS n FROM claude_jobs WHERE id = ANY(${ids}::uuid[]) AND status IN ('finished', 'failed')`;
      return rows[0]!.n === 7;
    });
    await waitFor("the park", async () => (await queue.get(ids[6]!)).result?.usageLimit);
    // Eight commands of 3 s each, at most four at once: had the jobs waited for them, this would take 6 s.
    // (The flaky job's retry waits its 1 s backoff.)
    expect(Date.now() - started).toBeLessThan(3500);
    await waitFor("eight events", () => readdirSync(dir).length === 8 && readdirSync(dir).every((f) => readFileSync(join(dir, f), "utf8").endsWith("\n")), { timeoutMs: 15_000 });
    const events = readdirSync(dir).map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")));
    expect(events.map((e) => e.job.id).sort()).toEqual([...ids].sort());
    const parked = events.find((e) => e.event === "job.parked")!;
    expect(parked.job).toMatchObject({ id: ids[6], kind: "park", status: "queued" });
    expect(parked.detail).toEqual({ resets_at: "2026-12-02T20:00:00.000Z", reason: "waiting for the usage limit to reset at 20:00" });
    const failed = events.find((e) => e.event === "job.failed")!;
    expect(failed.job).toMatchObject({ kind: "fail", status: "failed", url: `https://jobs.example.com/jobs/${failed.job.id}` });
    expect(failed.job.error).toContain("no luck");
    await command.drain();
    expect(log).toEqual([]);
    expect(existsSync(dir)).toBe(true);
  });
});
