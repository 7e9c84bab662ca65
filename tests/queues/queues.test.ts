// The Queues API and `claude-jobs queue`: listing with counts, pausing (also a
// queue with no jobs yet), resuming, who paused it when, and bad input that
// names the field, exits 2 and changes nothing.

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { cliEnv, runCli } from "../helpers/cli.ts";
import { Queue } from "../../src/queue/client.ts";
import { Queues } from "../../src/queue/queues.ts";
import { InputError } from "../../src/errors.ts";
import { insertJob } from "../web/helpers.ts";

let db: TestDatabase;
let queues: Queues;

beforeAll(async () => {
  db = await createTestDatabase();
  queues = new Queues(db.sql);
});
afterEach(async () => {
  await db.sql`TRUNCATE claude_jobs, claude_job_queues`;
});
afterAll(async () => {
  await db.drop();
});

const rows = async () => [...await db.sql`SELECT name, paused_at IS NOT NULL AS paused, paused_by FROM claude_job_queues ORDER BY name`].map((r) => ({ ...r }));

describe("Queues", () => {
  test("a queue with no jobs can be paused, and is listed as paused with its author and time", async () => {
    const before = new Date(Date.now() - 1000);
    const { queue, changed } = await queues.pause("later", { by: "alice@build-1" });
    expect(changed).toBe(true);
    expect(queue).toMatchObject({ queue: "later", paused: true, pausedBy: "alice@build-1", queued: 0, running: 0 });
    expect(queue.pausedAt!.getTime()).toBeGreaterThan(before.getTime());
    expect((await queues.list()).map((q) => [q.queue, q.paused])).toEqual([["later", true]]);
    expect(await queues.paused()).toEqual(["later"]);
  });

  test("list: every queue with jobs, its counts by status, paused or not", async () => {
    await insertJob(db, { queue: "mail" });
    await insertJob(db, { queue: "mail", runInSeconds: 3600 });
    await insertJob(db, { queue: "mail", status: "running" });
    await insertJob(db, { queue: "mail", status: "failed" });
    await insertJob(db, { queue: "default", status: "finished" });
    await queues.pause("mail", { by: "ops" });
    const list = await queues.list();
    expect(list.map((q) => q.queue)).toEqual(["default", "mail"]);
    expect(list[0]).toMatchObject({ queue: "default", paused: false, pausedAt: null, pausedBy: null, finished: 1 });
    expect(list[1]).toMatchObject({ queue: "mail", paused: true, pausedBy: "ops", queued: 1, scheduled: 1, running: 1, failed: 1, finished: 0 });
  });

  test("pausing a paused queue keeps the first pause; resume clears it; resuming again changes nothing", async () => {
    const first = await queues.pause("q", { by: "first" });
    const again = await queues.pause("q", { by: "second" });
    expect(again.changed).toBe(false);
    expect(again.queue.pausedBy).toBe("first");
    expect(again.queue.pausedAt).toEqual(first.queue.pausedAt);
    const resumed = await queues.resume("q");
    expect(resumed).toMatchObject({ changed: true, queue: { paused: false, pausedAt: null, pausedBy: null } });
    expect((await queues.resume("q")).changed).toBe(false);
    expect((await queues.resume("never-paused")).changed).toBe(false);
    // A resumed queue with no jobs is not listed; its row stays, not paused.
    expect(await queues.list()).toEqual([]);
    expect(await rows()).toEqual([{ name: "q", paused: false, paused_by: null }]);
  });

  test("names are checked as queue names elsewhere, and who paused as a short printable text; nothing is written", async () => {
    for (const bad of ["", "Upper", "has space", "-dash", "x".repeat(64)]) {
      await expect(queues.pause(bad, { by: "x" })).rejects.toThrow(InputError);
      await expect(queues.resume(bad)).rejects.toThrow(/^queue: must be 1-63 characters/);
    }
    for (const bad of ["", "  ", "a\u001b]0;pwned\u0007", "x".repeat(201)]) {
      await expect(queues.pause("ok", { by: bad })).rejects.toThrow(/^by: must be 1-200 characters/);
    }
    expect(await rows()).toEqual([]);
  });

  test("enqueueing into a paused queue still works: the job waits", async () => {
    await queues.pause("held", { by: "x" });
    await new Queue(db.sql).enqueue({ kind: "noop", queue: "held", payload: {} });
    expect(await queues.get("held")).toMatchObject({ paused: true, queued: 1 });
  });
});

describe("claude-jobs queue", () => {
  const cli = (...args: string[]) => runCli([...args, `--database-url=${db.url}`], { env: cliEnv() });

  test("pause, list (text and --json), resume", async () => {
    await insertJob(db, { queue: "builds" });
    const paused = await cli("queue", "pause", "builds");
    expect(paused).toMatchObject({ code: 0, stderr: "" });
    expect(paused.stdout).toContain("queue builds paused");
    const [row] = await rows();
    // Who: this shell's user@host by default.
    expect(row!.paused_by).toMatch(/^[^@\s]+@[^@\s]+$/);

    const text = await cli("queue", "list");
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^QUEUE\s+STATE\s+WAITING\s+QUEUED/);
    expect(text.stdout).toMatch(/builds\s+paused\s+0\s+1\s+0\s+0/);
    expect(text.stdout).toContain(`${row!.paused_by} at `);

    const json = JSON.parse((await cli("queue", "list", "--json")).stdout);
    expect(json).toEqual([expect.objectContaining({ queue: "builds", paused: true, pausedBy: row!.paused_by, queued: 1 })]);

    expect((await cli("queue", "pause", "builds", "--by=someone-else")).stdout).toContain(`was paused already by ${row!.paused_by}`);
    const resumed = await cli("queue", "resume", "builds", "--json");
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ changed: true, queue: { queue: "builds", paused: false } });
    expect((await cli("queue", "resume", "builds")).stdout).toContain("queue builds was not paused");
  }, 30_000);

  test("stats and workers say which queues are paused", async () => {
    await insertJob(db, { queue: "held" });
    await insertJob(db, { queue: "free" });
    await queues.pause("held", { by: "ops" });
    const stats = await cli("stats");
    expect(stats.stdout).toMatch(/^held \(paused\)\s+0\s+1/m);
    expect(stats.stdout).toMatch(/^free\s+0\s+1/m);
    expect(stats.stdout).toContain("paused: held: no worker claims their jobs (claude-jobs queue resume NAME)");
    expect(JSON.parse((await cli("stats", "--json")).stdout).paused).toEqual(["held"]);
    expect((await cli("workers")).stdout).toContain("paused queues (claimed by no worker): held");
  }, 30_000);

  test("--by names who paused", async () => {
    expect((await cli("queue", "pause", "nightly", "--by=release-bot")).code).toBe(0);
    expect(await rows()).toEqual([{ name: "nightly", paused: true, paused_by: "release-bot" }]);
  }, 30_000);

  test("bad input exits 2 naming the field, and changes nothing", async () => {
    const cases: [string[], RegExp][] = [
      [["queue", "pause", "Bad Name"], /queue: must be 1-63 characters/],
      [["queue", "pause"], /name: queue pause needs the queue's name/],
      [["queue", "stop", "x"], /action: must be list, pause, resume, budget or webhook; got "stop"/],
      [["queue", "list", "extra"], /queue list takes no queue name/],
      [["queue", "resume", "x", "--by=me"], /--by: only applies to queue pause/],
      [["queue", "pause", "x", "--by="], /by: must be 1-200 characters/],
      [["queue"], /arguments: expects <action> \[<name>\]/],
      [["queue", "pause", "a", "b"], /arguments: /],
    ];
    for (const [args, message] of cases) {
      const r = await cli(...args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe("");
    }
    expect(await rows()).toEqual([]);
  }, 60_000);
});
