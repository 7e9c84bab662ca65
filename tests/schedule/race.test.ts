// Exactly one job per slot with several worker processes racing the same
// schedules: each process runs the scheduler every 50 ms on a shared clock
// the test moves (a file every process reads), so they all find each slot
// due at the same moment. And the unique index alone, without the row lock
// the scheduler takes, lets only one of many concurrent inserts of a slot in.

import { afterAll, afterEach, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { REPO, type Child } from "../helpers/engine.ts";
import { waitFor } from "../helpers/wait.ts";
import { startWorkerProcess } from "../helpers/worker-process.ts";
import { Schedules } from "../../src/schedule/schedules.ts";
import { scheduleEnqueue } from "../../src/db/schedules.ts";
import { createSql } from "../../src/db/connect.ts";

setDefaultTimeout(90_000);

const FIXTURE = join(REPO, "tests/schedule/fixtures/scheduler-worker.ts");
const WORKERS = 4;
let db: TestDatabase;
let dir: string;
let clockFile: string;
const children: Child[] = [];

/** Moves every process's clock at once: written aside, then renamed, so no process reads half a time. */
function setClock(iso: string): void {
  writeFileSync(`${clockFile}.next`, iso);
  renameSync(`${clockFile}.next`, clockFile);
}

async function startWorker(): Promise<Child> {
  const child = await startWorkerProcess(db.url, { CLOCK_FILE: clockFile }, { script: FIXTURE, timeoutMs: 20_000 });
  children.push(child);
  return child;
}

beforeAll(async () => {
  db = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), "cj-schedule-race-"));
  clockFile = join(dir, "clock");
});
afterEach(async () => {
  for (const c of children.splice(0)) {
    c.proc.kill("SIGKILL");
    await c.exited;
  }
});
afterAll(async () => {
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
});

test(`${WORKERS} worker processes racing three schedules enqueue each slot exactly once, and lose none`, async () => {
  setClock("2026-05-04T08:00:30Z");
  const schedules = new Schedules(db.sql, { now: () => new Date("2026-05-04T08:00:30Z") });
  await schedules.add({ name: "every minute", expression: "* * * * *", kind: "tick", payload: {} });
  await schedules.add({ name: "every two", expression: "*/2 * * * *", kind: "tick", payload: {}, missed: "all:10" });
  await schedules.add({ name: "catch up", expression: "* * * * *", kind: "tick", payload: {}, missed: "all:5" });
  const workers = await Promise.all(Array.from({ length: WORKERS }, startWorker));

  // Twelve minutes, one at a time: every process sees each minute's slots due at once.
  const minutes = Array.from({ length: 12 }, (_, i) => new Date(Date.parse("2026-05-04T08:01:00.300Z") + i * 60_000));
  for (const [i, minute] of minutes.entries()) {
    setClock(minute.toISOString());
    const want = { "every minute": i + 1, "every two": Math.floor((i + 1) / 2), "catch up": i + 1 };
    await waitFor(`the slots of ${minute.toISOString()}`, async () => {
      const rows = await db.sql`SELECT schedule_name, count(*)::int AS n FROM claude_jobs GROUP BY schedule_name`;
      const got = Object.fromEntries(rows.map((r) => [r.schedule_name, r.n]));
      return Object.entries(want).every(([name, n]) => (got[name] ?? 0) >= n) && got;
    }, { timeoutMs: 15_000 });
  }
  // Then a jump of four minutes with no tick between: all:5 catches up each of them, once.
  setClock("2026-05-04T08:16:00.300Z");
  await waitFor("the catch-up", async () => (await db.sql`SELECT 1 FROM claude_jobs WHERE schedule_name = 'catch up'`).length >= 16);
  // Every process has run two whole ticks on this clock since: whatever they would add is in.
  const ticksAt = (w: Child, clock: string) => w.stdout().split("\n").filter((l) => l === JSON.stringify({ ticked: clock })).length;
  await waitFor("two more ticks of every process", () => workers.every((w) => ticksAt(w, "2026-05-04T08:16:00.300Z") >= 3));

  const slots = await db.sql`SELECT schedule_name, schedule_slot, count(*)::int AS n FROM claude_jobs GROUP BY 1, 2 ORDER BY 1, 2`;
  expect(slots.filter((r) => r.n !== 1)).toEqual([]);
  const byName = (name: string) => slots.filter((r) => r.schedule_name === name).map((r) => (r.schedule_slot as Date).toISOString().slice(11, 16));
  const range = (from: number, to: number, step = 1) => Array.from({ length: (to - from) / step + 1 }, (_, i) => {
    const m = from + i * step;
    return `08:${String(m).padStart(2, "0")}`;
  });
  expect(byName("every minute")).toEqual([...range(1, 12), "08:16"]); // once: the jump is one catch-up job
  expect(byName("every two")).toEqual([...range(2, 12, 2), "08:14", "08:16"]);
  expect(byName("catch up")).toEqual(range(1, 16));
  // The work was shared: more than one process inserted jobs (and none inserted one twice).
  const ids = workers.flatMap((w) => w.stdout().split("\n").filter((l) => l.startsWith('{"enqueued"')).flatMap((l) => JSON.parse(l).enqueued as string[]));
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids.length).toBe(slots.length);
  expect(workers.filter((w) => w.stdout().includes('"enqueued"')).length).toBeGreaterThan(1);
  // And no tick failed in any of them (a deadlock, a serialization error, a constraint).
  expect(workers.map((w) => w.stderr())).toEqual(workers.map(() => ""));
});

test("without the scheduler's row lock, the unique index alone lets one of twenty concurrent inserts of a slot in", async () => {
  const schedules = new Schedules(db.sql);
  await schedules.add({ name: "contended", expression: "@hourly", kind: "tick", payload: {} });
  const clients = Array.from({ length: 20 }, () => createSql(db.url, { max: 1 }));
  try {
    const slot = new Date("2026-05-04T09:00:00Z");
    const results = await Promise.all(clients.map((c) => scheduleEnqueue(c, { name: "contended", slots: [slot], advance: false, nextRunAt: null })));
    expect(results.flatMap((r) => r!.inserted)).toHaveLength(1);
    expect(await db.sql`SELECT id FROM claude_jobs WHERE schedule_name = 'contended'`).toHaveLength(1);
  } finally {
    await Promise.all(clients.map((c) => c.end({ timeout: 1 })));
  }
});
