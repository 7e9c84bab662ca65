// Retention against PostgreSQL: what goes (finished and cancelled jobs past
// 14 days, failed past 30, by default) and what stays, in batches, with the
// counters exact; one cleaner at a time (the advisory lock: a second one
// skips at once, two at once never delete or count a job twice); dry runs
// that change nothing; and the jobs' log files on this host. The clock is
// injected: "now" is moved, nothing sleeps.

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { cleanup, DEFAULT_RETENTION, parseRetention, type CleanupOptions } from "../../src/worker/retention.ts";
import { InputError } from "../../src/errors.ts";
import { countByStatus, countsAgree, insertEnded } from "./helpers.ts";
import { insertJob } from "../web/helpers.ts";

let db: TestDatabase;
const DAY = 86_400_000;

beforeAll(async () => {
  db = await createTestDatabase({ max: 6 });
});
afterEach(async () => {
  await db.sql`TRUNCATE claude_jobs`;
});
afterAll(async () => {
  await db.drop();
});

const onPool = (sql = db.sql) => <T>(query: (s: typeof sql) => Promise<T>) => query(sql);
const run = (options: Partial<CleanupOptions> = {}) =>
  cleanup(onPool(), { policy: DEFAULT_RETENTION, now: new Date(), ...options });

describe("what retention deletes", () => {
  test("finished and cancelled jobs past 14 days, failed past 30; newer ones and live jobs stay; counters exact", async () => {
    await insertEnded(db, { n: 30, status: "finished", endedAgo: "15 days", queue: "a" });
    await insertEnded(db, { n: 20, status: "cancelled", endedAgo: "15 days", queue: "b" });
    await insertEnded(db, { n: 10, status: "failed", endedAgo: "15 days", queue: "a" }); // kept: failed stay 30 days
    await insertEnded(db, { n: 5, status: "failed", endedAgo: "31 days", queue: "b" });
    await insertEnded(db, { n: 7, status: "finished", endedAgo: "13 days" });
    await insertJob(db, { status: "queued", createdSecondsAgo: 60 * DAY / 1000 });
    await insertJob(db, { status: "running" });
    const report = await run();
    expect(report).toMatchObject({
      dryRun: false, busy: false, stopped: false, total: 55, deleted: { finished: 30, cancelled: 20, failed: 5 },
      queues: { a: { finished: 30, failed: 0, cancelled: 0 }, b: { finished: 0, failed: 5, cancelled: 20 } },
    });
    expect(await countByStatus(db)).toEqual({ failed: 10, finished: 7, queued: 1, running: 1 });
    const agree = await countsAgree(db);
    expect(agree.counters).toEqual(agree.rows);
    expect(agree.rows).toEqual({ "a/failed": 10, "default/finished": 7 });
  });

  test("the clock decides: the same jobs go once now is far enough ahead", async () => {
    await insertEnded(db, { n: 10, status: "finished", endedAgo: "1 hour" });
    await insertEnded(db, { n: 10, status: "failed", endedAgo: "1 hour" });
    expect((await run()).total).toBe(0);
    expect((await run({ now: new Date(Date.now() + 15 * DAY) })).deleted).toEqual({ finished: 10, failed: 0, cancelled: 0 });
    expect((await run({ now: new Date(Date.now() + 31 * DAY) })).deleted).toEqual({ finished: 0, failed: 10, cancelled: 0 });
  });

  test("0/off keeps a kind forever; both off deletes nothing", async () => {
    await insertEnded(db, { n: 4, status: "finished", endedAgo: "400 days" });
    await insertEnded(db, { n: 3, status: "failed", endedAgo: "400 days" });
    expect((await run({ policy: { finishedMs: null, failedMs: null } })).total).toBe(0);
    expect((await run({ policy: { finishedMs: null, failedMs: DAY } })).deleted).toEqual({ finished: 0, failed: 3, cancelled: 0 });
    expect(await countByStatus(db)).toEqual({ finished: 4 });
    expect((await run({ policy: { finishedMs: 7 * DAY, failedMs: null } })).deleted.finished).toBe(4);
  });

  test("in batches, oldest first, past failed jobs it must keep", async () => {
    // Kept failed jobs sit between the finished ones in finished_at order: the keyset walks past them.
    await insertEnded(db, { n: 1200, status: "finished", endedAgo: "20 days" });
    await insertEnded(db, { n: 700, status: "failed", endedAgo: "20 days" });
    await insertEnded(db, { n: 1300, status: "finished", endedAgo: "18 days" });
    const report = await run({ batchSize: 1000 });
    expect(report.total).toBe(2500);
    expect(report.batches).toBe(3);
    expect(await countByStatus(db)).toEqual({ failed: 700 });
  });

  test("a batch of tied finished_at (one bulk cancel) is not cut short", async () => {
    await insertEnded(db, { n: 10, status: "finished", endedAgo: "20 days" });
    await db.sql`UPDATE claude_jobs SET finished_at = (SELECT min(finished_at) FROM claude_jobs)`;
    const report = await run({ batchSize: 3 });
    expect(report.total).toBe(10);
    expect(await countByStatus(db)).toEqual({});
  });

  test("an aborted signal stops between batches", async () => {
    await insertEnded(db, { n: 50, status: "finished", endedAgo: "20 days" });
    const stop = new AbortController();
    stop.abort();
    expect(await run({ signal: stop.signal })).toMatchObject({ stopped: true, total: 0 });
    expect((await countByStatus(db)).finished).toBe(50);
  });
});

describe("one cleaner at a time", () => {
  test("while another transaction holds the lock, a cleaner skips at once and deletes nothing", async () => {
    await insertEnded(db, { n: 100, status: "finished", endedAgo: "20 days" });
    const held = Promise.withResolvers<void>();
    const locked = Promise.withResolvers<void>();
    const holder = db.sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(17227, 1)`;
      locked.resolve();
      await held.promise;
    });
    await locked.promise;
    const started = performance.now();
    const report = await run();
    const tookMs = performance.now() - started;
    held.resolve();
    await holder;
    expect(report).toMatchObject({ busy: true, total: 0, batches: 0 });
    expect(tookMs).toBeLessThan(2000); // it did not wait for the holder
    expect((await countByStatus(db)).finished).toBe(100);
    expect((await run()).total).toBe(100);
  });

  test("two cleaners at once on two connections: every job deleted exactly once, counters exact", async () => {
    await insertEnded(db, { n: 6000, status: "finished", endedAgo: "20 days", queue: "x" });
    await insertEnded(db, { n: 3000, status: "cancelled", endedAgo: "20 days", queue: "y" });
    await insertEnded(db, { n: 500, status: "finished", endedAgo: "1 day", queue: "x" });
    // A cleaner that finds the lock taken stops its run: run pairs until the work is done.
    const reports = [];
    for (let round = 0; round < 100 && (await countByStatus(db)).cancelled !== undefined; round++) {
      reports.push(...await Promise.all([run({ batchSize: 200 }), run({ batchSize: 200 })]));
    }
    const total = reports.reduce((s, r) => s + r.total, 0);
    expect(total).toBe(9000);
    expect(reports.reduce((s, r) => s + r.deleted.cancelled, 0)).toBe(3000);
    expect(await countByStatus(db)).toEqual({ finished: 500 });
    const agree = await countsAgree(db);
    expect(agree.counters).toEqual(agree.rows);
    expect(agree.rows).toEqual({ "x/finished": 500 });
  }, 30_000);
});

describe("dry run", () => {
  test("says what would go, by status and queue, and deletes nothing", async () => {
    await insertEnded(db, { n: 12, status: "finished", endedAgo: "20 days", queue: "q" });
    await insertEnded(db, { n: 3, status: "failed", endedAgo: "40 days", queue: "q" });
    await insertEnded(db, { n: 3, status: "failed", endedAgo: "20 days", queue: "q" });
    const dry = await run({ dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, total: 15, deleted: { finished: 12, failed: 3, cancelled: 0 }, batches: 0 });
    expect(await countByStatus(db)).toEqual({ finished: 12, failed: 6 });
    const real = await run();
    expect(real.deleted).toEqual(dry.deleted);
  });
});

describe("the jobs' log files on this host", () => {
  test("each deleted job's logs go (every attempt, found by name); kept jobs' logs, foreign files and other paths stay", async () => {
    const logDir = mkdtempSync(join(tmpdir(), "cj-retention-logs-"));
    const outside = mkdtempSync(join(tmpdir(), "cj-retention-outside-"));
    const [old, oldNoResult] = await insertEnded(db, { n: 2, status: "finished", endedAgo: "20 days", kind: "claude" });
    const [recent] = await insertEnded(db, { n: 1, status: "finished", endedAgo: "1 day", kind: "claude" });
    const [hostile] = await insertEnded(db, { n: 1, status: "failed", endedAgo: "40 days", kind: "custom" });
    const name = (id: string, stamp: string, stream: string) => `${id}-${stamp}.${stream}.log`;
    const files = [
      name(old!, "20260101-100000", "stdout"), name(old!, "20260101-100000", "stderr"), // attempt 1
      name(old!, "20260101-110000", "stdout"), name(old!, "20260101-110000", "stderr"), // attempt 2, in its result
      name(oldNoResult!, "20260101-100000", "stdout"),
      name(recent!, "20260101-100000", "stdout"),
      "notes.txt",
    ];
    for (const f of files) writeFileSync(join(logDir, f), "x");
    const victim = join(outside, "precious.txt");
    writeFileSync(victim, "keep me");
    await db.sql`UPDATE claude_jobs SET result = ${db.sql.json({ stdoutLog: join(logDir, files[2]!), stderrLog: join(logDir, files[3]!) })} WHERE id = ${old!}`;
    // A handler's result is its own: a path in it that is no log of this job is never removed.
    await db.sql`UPDATE claude_jobs SET result = ${db.sql.json({ stdoutLog: victim, stderrLog: join(logDir, "notes.txt") })} WHERE id = ${hostile!}`;

    const dry = await run({ logDir, dryRun: true });
    expect(dry).toMatchObject({ total: 3, filesRemoved: 5 });
    expect(readdirSync(logDir).length).toBe(files.length);

    const report = await run({ logDir });
    expect(report).toMatchObject({ total: 3, filesRemoved: 5 });
    expect(readdirSync(logDir).sort()).toEqual([name(recent!, "20260101-100000", "stdout"), "notes.txt"].sort());
    expect(existsSync(victim)).toBe(true);
  });

  test("without a configured folder, the folder of the logs a result names is searched; a missing folder is no error", async () => {
    const logDir = mkdtempSync(join(tmpdir(), "cj-retention-logs-"));
    const [job, elsewhere] = await insertEnded(db, { n: 2, status: "cancelled", endedAgo: "20 days", kind: "claude" });
    const earlier = `${job}-20260101-090000.stdout.log`;
    const last = `${job}-20260101-100000.stdout.log`;
    for (const f of [earlier, last]) writeFileSync(join(logDir, f), "x");
    await db.sql`UPDATE claude_jobs SET result = ${db.sql.json({ stdoutLog: join(logDir, last) })} WHERE id = ${job!}`;
    const gone = join(tmpdir(), "cj-no-such-folder", `${elsewhere}-20260101-100000.stdout.log`);
    await db.sql`UPDATE claude_jobs SET result = ${db.sql.json({ stdoutLog: gone })} WHERE id = ${elsewhere!}`;
    const report = await run();
    expect(report).toMatchObject({ total: 2, filesRemoved: 2 });
    expect(readdirSync(logDir)).toEqual([]);
  });
});

describe("retention flags", () => {
  test("durations, and 0 or off for forever; anything else names the flag", () => {
    expect(parseRetention("--retain-finished", "14d")).toBe(14 * DAY);
    expect(parseRetention("--retain-finished", "36h")).toBe(36 * 3_600_000);
    expect(parseRetention("--retain-finished", "0")).toBeNull();
    expect(parseRetention("--retain-failed", "OFF")).toBeNull();
    for (const bad of ["", "14", "7x", "-1d", "soon", "100ms"]) {
      expect(() => parseRetention("--retain-failed", bad)).toThrow(InputError);
      expect(() => parseRetention("--retain-failed", bad)).toThrow(/^--retain-failed: must be a duration like 14d/);
    }
  });
});

describe("log files of jobs deleted elsewhere", () => {
  test("asked to, this host's log folder loses the files of jobs that are gone, once their attempt is older than the shorter period", async () => {
    const logDir = mkdtempSync(join(tmpdir(), "cj-retention-orphans-"));
    const [kept] = await insertEnded(db, { n: 1, status: "failed", endedAgo: "20 days", kind: "claude" });
    const goneOld = "0192f1c4-7b1e-7cc0-8d2a-5e1f0a9b3c4d";
    const goneRecent = "0192f1c4-7b1e-7cc0-8d2a-5e1f0a9b3c4e";
    const stamp = (daysAgo: number) => new Date(Date.now() - daysAgo * DAY).toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
    const files = [
      `${goneOld}-${stamp(20)}.stdout.log`, `${goneOld}-${stamp(20)}.stderr.log`,
      `${goneRecent}-${stamp(2)}.stdout.log`, // its job was deleted by hand: kept until it is as old as a retention
      `${kept}-${stamp(20)}.stdout.log`, // a failed job still kept (30 days)
      `not-a-log-${stamp(20)}.txt`,
    ];
    for (const f of files) writeFileSync(join(logDir, f), "x");
    // Not asked: a folder another database's jobs share must keep their files.
    expect(await run({ logDir })).toMatchObject({ total: 0, orphanFilesRemoved: 0 });
    expect(await run({ logDir, sweepOrphans: true, dryRun: true })).toMatchObject({ total: 0, orphanFilesRemoved: 2 });
    expect(readdirSync(logDir).length).toBe(5);
    expect(await run({ logDir, sweepOrphans: true, policy: { finishedMs: null, failedMs: null } })).toMatchObject({ orphanFilesRemoved: 0 });
    expect(await run({ logDir, sweepOrphans: true })).toMatchObject({ total: 0, orphanFilesRemoved: 2 });
    expect(readdirSync(logDir).sort()).toEqual(files.slice(2).sort());
    // Without a log folder (a library worker with no Claude handler) nothing is swept.
    mkdirSync(join(logDir, "sub"));
    expect(await run({ sweepOrphans: true })).toMatchObject({ orphanFilesRemoved: 0 });
  });
});
