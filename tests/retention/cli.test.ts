// `claude-jobs cleanup` and the worker's retention flags as a user runs them:
// what it says it deleted (text and --json), a dry run that deletes nothing,
// log files removed from the folder it is given, and bad durations that name
// the flag, exit 2 and delete nothing.

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { cliEnv, runCli, tempDir } from "../helpers/cli.ts";
import { countByStatus, insertEnded } from "./helpers.ts";

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  await db.sql`TRUNCATE claude_jobs`;
});
afterAll(async () => {
  await db.drop();
});

const cli = (args: string[], env: Record<string, string> = {}) => runCli([...args, `--database-url=${db.url}`], { env: cliEnv(env) });

describe("claude-jobs cleanup", () => {
  test("--dry-run says what would go and deletes nothing; then cleanup deletes it and says so", async () => {
    await insertEnded(db, { n: 5, status: "finished", endedAgo: "20 days", queue: "mail" });
    await insertEnded(db, { n: 2, status: "cancelled", endedAgo: "20 days", queue: "mail" });
    await insertEnded(db, { n: 3, status: "failed", endedAgo: "20 days" });
    await insertEnded(db, { n: 4, status: "finished", endedAgo: "2 days" });
    const dry = await cli(["cleanup", "--dry-run"]);
    expect(dry).toMatchObject({ code: 0, stderr: "" });
    expect(dry.stdout).toContain("would delete 7 job(s): 5 finished, 2 cancelled, 0 failed");
    expect(dry.stdout).toContain("  mail: 5 finished, 2 cancelled, 0 failed");
    expect(await countByStatus(db)).toEqual({ finished: 9, cancelled: 2, failed: 3 });

    const real = await cli(["cleanup", "--json"]);
    expect(real.code).toBe(0);
    expect(JSON.parse(real.stdout)).toMatchObject({ dryRun: false, total: 7, deleted: { finished: 5, cancelled: 2, failed: 0 }, busy: false });
    expect(await countByStatus(db)).toEqual({ finished: 4, failed: 3 });
  }, 30_000);

  test("--older-than and --failed-older-than move the limits; off keeps a kind", async () => {
    await insertEnded(db, { n: 4, status: "finished", endedAgo: "2 days" });
    await insertEnded(db, { n: 3, status: "failed", endedAgo: "2 days" });
    const r = await cli(["cleanup", "--older-than=off", "--failed-older-than=1d"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("deleted 3 job(s): 0 finished, 0 cancelled, 3 failed (finished and cancelled: kept; failed before ");
    expect(await countByStatus(db)).toEqual({ finished: 4 });
    // The worker's environment variables set the same defaults.
    expect((await cli(["cleanup", "--json"], { CLAUDE_JOBS_RETAIN_FINISHED: "36h" })).stdout).toContain('"total":4');
  }, 30_000);

  test("removes the deleted jobs' log files from --log-dir", async () => {
    const logDir = tempDir("cj-cleanup-logs-");
    const [job] = await insertEnded(db, { n: 1, status: "finished", endedAgo: "20 days", kind: "claude" });
    const [kept] = await insertEnded(db, { n: 1, status: "finished", endedAgo: "1 day", kind: "claude" });
    for (const f of [`${job}-20260101-100000.stdout.log`, `${job}-20260101-100000.stderr.log`, `${kept}-20261130-100000.stdout.log`]) {
      writeFileSync(join(logDir, f), "x");
    }
    const r = await cli(["cleanup", `--log-dir=${logDir}`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`deleted 2 log file(s) and 0 worktree folder(s) (branches kept) on this host (${logDir}`);
    expect(readdirSync(logDir)).toEqual([`${kept}-20261130-100000.stdout.log`]);
  }, 30_000);

  test("--orphans also removes the logs in --log-dir of jobs this database no longer has", async () => {
    const logDir = tempDir("cj-cleanup-orphans-");
    const orphan = "0192f1c4-7b1e-7cc0-8d2a-5e1f0a9b3c4d-20260101-100000.stdout.log";
    writeFileSync(join(logDir, orphan), "x");
    expect((await cli(["cleanup", `--log-dir=${logDir}`])).stdout).not.toContain("jobs deleted earlier");
    expect(readdirSync(logDir)).toEqual([orphan]);
    const r = await cli(["cleanup", `--log-dir=${logDir}`, "--orphans"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`deleted 1 log file(s) in ${logDir} of jobs deleted earlier or by another host`);
    expect(readdirSync(logDir)).toEqual([]);
  }, 30_000);

  test("bad durations name the flag, exit 2 and delete nothing", async () => {
    await insertEnded(db, { n: 3, status: "finished", endedAgo: "20 days" });
    const cases: [string[], Record<string, string>, RegExp][] = [
      [["cleanup", "--older-than=7"], {}, /--older-than: must be a duration like 14d, 36h or 90m \(at least 1s\), or 0 or off to keep these jobs forever; got "7"/],
      [["cleanup", "--failed-older-than=soon"], {}, /--failed-older-than: must be a duration/],
      [["cleanup", "--older-than=-1d"], {}, /--older-than: must be a duration/],
      [["cleanup"], { CLAUDE_JOBS_RETAIN_FINISHED: "two weeks" }, /--older-than: must be a duration/],
      [["cleanup", "extra"], {}, /arguments: expects no arguments/],
      [["worker", "--retain-finished=14"], {}, /--retain-finished: must be a duration/],
      [["worker", "--retain-failed=forever"], {}, /--retain-failed: must be a duration/],
    ];
    for (const [args, env, message] of cases) {
      const r = await cli(args, env);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(message);
    }
    expect(await countByStatus(db)).toEqual({ finished: 3 });
  }, 60_000);

  test("--help shows the defaults and their environment variables", async () => {
    const cleanup = await runCli(["cleanup", "--help"]);
    expect(cleanup.stdout).toContain("env CLAUDE_JOBS_RETAIN_FINISHED; default 14d");
    expect(cleanup.stdout).toContain("env CLAUDE_JOBS_RETAIN_FAILED; default 30d");
    const worker = await runCli(["worker", "--help"]);
    expect(worker.stdout).toMatch(/--retain-finished=<value>\s+delete finished and cancelled jobs this long after they ended \(0 or off: keep them\) \[env CLAUDE_JOBS_RETAIN_FINISHED; default 14d\]/);
  }, 30_000);
});
