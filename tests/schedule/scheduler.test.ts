// The scheduler against PostgreSQL, with an injected clock: a slot becomes
// one job made from the template exactly as an enqueue makes it, the missed
// policies, pause and resume, run now, the NOTIFY of the insert, and the
// unique index that keeps a slot to one job whatever moves next_run_at.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { waitFor } from "../helpers/wait.ts";
import { Schedules } from "../../src/schedule/schedules.ts";
import { enqueueDueSlots } from "../../src/schedule/scheduler.ts";
import { Queue } from "../../src/queue/client.ts";
import { InputError, NotFoundError } from "../../src/errors.ts";
import type { Handler } from "../../src/handlers/types.ts";

let db: TestDatabase;
let clock: Date;
let schedules: Schedules;

// A kind whose own payload rules change the payload: the template must carry the changed one.
const handlers: Record<string, Handler> = {
  report: { run: async () => {}, validate: (p) => ({ ...p, format: p.format ?? "pdf" }), concurrencyKey: (p) => `report:${String(p.team)}` },
};

const at = (iso: string) => new Date(iso);
const tick = () => enqueueDueSlots((query) => query(db.sql), clock);

async function jobsOf(name: string) {
  return db.sql`SELECT id, kind, queue, priority, payload, max_attempts, concurrency_key, concurrency_limit, unique_key,
                       status, run_at, schedule_name, schedule_slot
                FROM claude_jobs WHERE schedule_name = ${name} ORDER BY schedule_slot NULLS LAST, id`;
}

beforeAll(async () => {
  db = await createTestDatabase();
  schedules = new Schedules(db.sql, { handlers, now: () => clock });
});
beforeEach(async () => {
  clock = at("2026-03-02T09:00:30Z");
  await db.sql`DELETE FROM claude_job_schedules`;
  await db.sql`DELETE FROM claude_jobs`;
});
afterAll(() => db.drop());

describe("a slot enqueues one job", () => {
  test("made from the template as Queue.enqueue makes it, due at its slot", async () => {
    const params = { kind: "report", queue: "reports", priority: 7, maxAttempts: 2, payload: { team: "infra" } };
    const { schedule, created } = await schedules.add({ name: "weekly report", expression: "0 10 * * MON", ...params });
    expect(created).toBe(true);
    expect(schedule.nextRunAt).toEqual(at("2026-03-02T10:00:00Z"));
    expect(schedule.missed).toBe("once");
    expect(await tick()).toEqual([]);

    clock = at("2026-03-02T10:00:00.400Z");
    const [done] = await tick();
    expect(done).toMatchObject({ name: "weekly report", slots: [at("2026-03-02T10:00:00Z")], skipped: 0, nextRunAt: at("2026-03-09T10:00:00Z") });
    const jobs = await jobsOf("weekly report");
    expect(jobs.map((j) => j.id)).toEqual(done!.jobIds);

    const enqueued = await new Queue(db.sql, { handlers }).enqueue(params);
    const [plain] = await db.sql`SELECT kind, queue, priority, payload, max_attempts, concurrency_key, concurrency_limit, unique_key, status
                                 FROM claude_jobs WHERE id = ${enqueued}`;
    const { id: _id, run_at, schedule_name, schedule_slot, ...fromSlot } = jobs[0]!;
    expect(fromSlot).toEqual({ ...plain });
    expect(fromSlot.payload).toEqual({ team: "infra", format: "pdf" });
    expect([run_at, schedule_name, schedule_slot]).toEqual([at("2026-03-02T10:00:00Z"), "weekly report", at("2026-03-02T10:00:00Z")]);

    const [listed] = await schedules.list();
    expect(listed).toMatchObject({ lastRunAt: at("2026-03-02T10:00:00Z"), lastJobId: jobs[0]!.id, lastJobStatus: "queued", nextRunAt: at("2026-03-09T10:00:00Z") });
  });

  test("a tick that finds the slot handled does nothing, and a next_run_at moved back cannot make a second job", async () => {
    await schedules.add({ name: "minutely", expression: "* * * * *", kind: "report", payload: { team: "a" } });
    clock = at("2026-03-02T09:01:00.200Z");
    expect((await tick()).map((t) => t.jobIds.length)).toEqual([1]);
    expect(await tick()).toEqual([]);
    // A host whose clock is behind replaces the schedule: its next slot is one already enqueued.
    const behind = new Schedules(db.sql, { handlers, now: () => at("2026-03-02T09:00:50Z") });
    await behind.add({ name: "minutely", expression: "* * * * *", kind: "report", payload: { team: "a" } });
    const [again] = await tick();
    expect(again).toMatchObject({ slots: [at("2026-03-02T09:01:00Z")], jobIds: [] });
    expect((await jobsOf("minutely")).length).toBe(1);
    expect((await schedules.get("minutely")).nextRunAt).toEqual(at("2026-03-02T09:02:00Z"));
  });

  test("the insert wakes workers like an enqueue: NOTIFY on claude_jobs with the queue", async () => {
    const heard: string[] = [];
    const listener = await db.sql.listen("claude_jobs", (queue) => heard.push(queue));
    try {
      await schedules.add({ name: "wake", expression: "* * * * *", kind: "report", queue: "wakeful", payload: {} });
      clock = at("2026-03-02T09:01:00.100Z");
      await tick();
      await waitFor("the NOTIFY of the slot's job", () => heard.includes("wakeful"));
    } finally {
      await listener.unlisten();
    }
  });
});

describe("missed slots: the --missed policy", () => {
  const hourly = { expression: "0 * * * *", kind: "report", payload: { team: "ops" } };

  test("once (the default): one catch-up job for the latest slot, not one per missed slot", async () => {
    await schedules.add({ name: "h", ...hourly });
    clock = at("2026-03-02T14:20:00Z"); // 10:00 to 14:00 due: five slots
    const [done] = await tick();
    expect(done).toMatchObject({ slots: [at("2026-03-02T14:00:00Z")], skipped: 4, nextRunAt: at("2026-03-02T15:00:00Z") });
    expect((await jobsOf("h")).map((j) => j.schedule_slot)).toEqual([at("2026-03-02T14:00:00Z")]);
  });

  test("skip: missed slots are dropped; a slot found on time still runs", async () => {
    await schedules.add({ name: "h", ...hourly, missed: "skip" });
    clock = at("2026-03-02T14:02:00Z"); // the latest slot is two minutes late
    expect(await tick()).toEqual([expect.objectContaining({ slots: [], jobIds: [], skipped: 5, nextRunAt: at("2026-03-02T15:00:00Z") })]);
    expect(await jobsOf("h")).toHaveLength(0);
    clock = at("2026-03-02T15:00:20Z");
    expect((await tick())[0]).toMatchObject({ slots: [at("2026-03-02T15:00:00Z")], skipped: 0 });
    expect(await jobsOf("h")).toHaveLength(1);
  });

  test("all:N: one job for each of the latest N missed slots", async () => {
    await schedules.add({ name: "h", ...hourly, missed: "all:3" });
    clock = at("2026-03-02T14:20:00Z");
    const [done] = await tick();
    expect(done).toMatchObject({ skipped: 2, slots: ["12:00", "13:00", "14:00"].map((t) => at(`2026-03-02T${t}:00Z`)) });
    expect((await jobsOf("h")).map((j) => j.schedule_slot)).toEqual(done!.slots);
    expect((await schedules.get("h")).lastRunAt).toEqual(at("2026-03-02T14:00:00Z"));
  });

  test.each(["sometimes", "all", "all:0", "all:1001", "all:-1"])("%p is refused, naming missed", async (missed) => {
    await expect(schedules.add({ name: "h", ...hourly, missed })).rejects.toThrow(/^missed: must be skip, once or all:N \(N from 1 to 1000\)/);
    expect(await schedules.list()).toEqual([]);
  });
});

describe("pause, resume, run now", () => {
  test("a paused schedule enqueues nothing; resumed, it starts at the next slot without catching up the pause", async () => {
    await schedules.add({ name: "p", expression: "*/10 * * * *", kind: "report", payload: {} });
    const paused = await schedules.pause("p");
    expect(paused.paused).toBe(true);
    clock = at("2026-03-02T09:45:00Z");
    expect(await tick()).toEqual([]);
    clock = at("2026-03-02T09:47:00Z");
    const resumed = await schedules.resume("p");
    expect(resumed).toMatchObject({ paused: false, pausedAt: null, nextRunAt: at("2026-03-02T09:50:00Z") });
    expect(await tick()).toEqual([]);
    clock = at("2026-03-02T09:50:01Z");
    expect((await tick())[0]).toMatchObject({ slots: [at("2026-03-02T09:50:00Z")], skipped: 0 });
  });

  test("run now enqueues one job at once, also when paused, and leaves the next slot as it was", async () => {
    await schedules.add({ name: "r", expression: "@daily", kind: "report", payload: { team: "x" } });
    await schedules.pause("r");
    const before = await schedules.get("r");
    const { jobId, schedule } = await schedules.runNow("r");
    const [job] = await db.sql`SELECT status, schedule_name, schedule_slot, run_at <= now() AS due, payload FROM claude_jobs WHERE id = ${jobId}`;
    expect(job).toEqual({ status: "queued", schedule_name: "r", schedule_slot: null, due: true, payload: { team: "x", format: "pdf" } });
    expect(schedule).toMatchObject({ lastJobId: jobId, nextRunAt: before.nextRunAt, paused: true });
    // Twice is two jobs: a run by hand has no slot to collide on.
    await schedules.runNow("r");
    expect(await jobsOf("r")).toHaveLength(2);
  });

  test("unknown names are NotFoundErrors, and change nothing", async () => {
    for (const action of [() => schedules.pause("nope"), () => schedules.resume("nope"), () => schedules.runNow("nope"), () => schedules.remove("nope"), () => schedules.get("nope")]) {
      await expect(action()).rejects.toBeInstanceOf(NotFoundError);
    }
    expect(await db.sql`SELECT 1 FROM claude_jobs`).toHaveLength(0);
  });

  test("remove: no more slots; its jobs stay and keep its name", async () => {
    await schedules.add({ name: "gone", expression: "* * * * *", kind: "report", payload: {} });
    clock = at("2026-03-02T09:01:00Z");
    await tick();
    await schedules.remove("gone");
    clock = at("2026-03-02T09:05:00Z");
    expect(await tick()).toEqual([]);
    expect((await jobsOf("gone")).length).toBe(1);
  });
});

describe("a schedule that cannot be handled", () => {
  test("is reported, and holds up no other schedule", async () => {
    await schedules.add({ name: "fine", expression: "* * * * *", kind: "report", payload: {} });
    await schedules.add({ name: "broken", expression: "* * * * *", kind: "report", payload: {} });
    // As if written by another version, or by hand: no longer an expression this one parses.
    await db.sql`UPDATE claude_job_schedules SET expression = '* * * * * * * *', next_run_at = '2026-03-02T09:00:00Z' WHERE name = 'broken'`;
    clock = at("2026-03-02T09:01:00Z");
    const errors: Error[] = [];
    const done = await enqueueDueSlots((query) => query(db.sql), clock, { onError: (e) => errors.push(e) });
    expect(done.map((t) => t.name)).toEqual(["fine"]);
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/^schedule "broken": expression: has seconds or years/)]);
    expect((await schedules.get("broken")).nextRunAt).toEqual(at("2026-03-02T09:00:00Z"));
    // Without onError, the tick throws, after handling the others.
    await expect(tick()).rejects.toThrow(/^schedule "broken": /);
  });
});

describe("the template", () => {
  test("is validated as an enqueue is: nothing is written for a bad one", async () => {
    await expect(schedules.add({ name: "c", expression: "@hourly", payload: { cwd: "/" } })).rejects.toThrow(/prompt/);
    await expect(schedules.add({ name: "c", expression: "@hourly", kind: "Bad Kind", payload: {} })).rejects.toThrow(/^kind: /);
    await expect(schedules.add({ name: "c", expression: "@hourly", kind: "report", priority: 5000, payload: {} })).rejects.toThrow(/^priority: /);
    await expect(schedules.add({ name: "c", expression: "@hourly", kind: "report", payload: [] as never })).rejects.toThrow(/^payload: /);
    await expect(schedules.add({ name: "c", expression: "@hourly", kind: "report", payload: {}, ...{ delay: "5m" } } as never)).rejects.toThrow(/^delay: cannot be given to a schedule/);
    await expect(schedules.add({ name: "c", expression: "@hourly", kind: "report", payload: {}, ...{ after: [] } } as never)).rejects.toThrow(/^after: cannot be given/);
    await expect(schedules.add({ name: "c", expression: "@often", kind: "report", payload: {} })).rejects.toThrow(/^expression: /);
    await expect(schedules.add({ name: "c", expression: "@hourly", timezone: "Mars/Olympus", kind: "report", payload: {} })).rejects.toThrow(/^timezone: /);
    for (const name of ["", " padded", "a/b", "bell\u0007", "x".repeat(101)]) {
      await expect(schedules.add({ name, expression: "@hourly", kind: "report", payload: {} })).rejects.toBeInstanceOf(InputError);
    }
    expect(await schedules.list()).toEqual([]);
  });

  test("adding a name that exists replaces it (paused stays paused)", async () => {
    await schedules.add({ name: "same", expression: "@hourly", kind: "report", payload: { team: "a" } });
    await schedules.pause("same");
    const { schedule, created } = await schedules.add({ name: "same", expression: "30 8 * * *", timezone: "Europe/Paris", kind: "report", payload: { team: "b" } });
    expect(created).toBe(false);
    expect(schedule).toMatchObject({ expression: "30 8 * * *", timezone: "Europe/Paris", paused: true, nextRunAt: at("2026-03-03T07:30:00Z") });
    expect(schedule.job.payload).toEqual({ team: "b", format: "pdf" });
  });

  test("a Claude template resuming a job continues that job's session, as an enqueue does", async () => {
    const session = "0f0e0d0c-0b0a-4909-8807-060504030201";
    const [done] = await db.sql`INSERT INTO claude_jobs (id, status, payload, attempts, result, finished_at)
      VALUES (${Bun.randomUUIDv7()}, 'finished', '{"prompt":"first","cwd":"/tmp"}', 1, ${db.sql.json({ sessionId: session })}, now()) RETURNING id`;
    const { schedule } = await schedules.add({ name: "follow up daily", expression: "@daily", payload: { prompt: "go on", cwd: "/tmp", resume: done!.id } });
    expect(schedule.job.payload.resume).toBe(session);
    const [fresh] = await db.sql`INSERT INTO claude_jobs (id, payload) VALUES (${Bun.randomUUIDv7()}, '{"prompt":"not yet","cwd":"/tmp"}') RETURNING id`;
    await expect(schedules.add({ name: "too early", expression: "@daily", payload: { prompt: "go on", cwd: "/tmp", resume: fresh!.id } }))
      .rejects.toThrow(/^payload\.resume: job .* has no Claude session yet \(it is queued\)/);
    expect((await schedules.list()).map((s) => s.name)).toEqual(["follow up daily"]);
  });

  test("with a unique key, a slot whose previous job still holds the key enqueues nothing", async () => {
    await schedules.add({ name: "u", expression: "* * * * *", kind: "report", payload: {}, uniqueKey: "nightly-sync" });
    clock = at("2026-03-02T09:01:00Z");
    const [first] = await tick();
    expect(first!.jobIds).toHaveLength(1);
    clock = at("2026-03-02T09:02:00Z");
    const [second] = await tick();
    expect(second).toMatchObject({ slots: [at("2026-03-02T09:02:00Z")], jobIds: [], nextRunAt: at("2026-03-02T09:03:00Z") });
    expect((await schedules.get("u")).lastJobId).toBe(first!.jobIds[0]!);
    await db.sql`UPDATE claude_jobs SET status = 'cancelled', finished_at = now()`;
    clock = at("2026-03-02T09:03:00Z");
    expect((await tick())[0]!.jobIds).toHaveLength(1);
  });
});
