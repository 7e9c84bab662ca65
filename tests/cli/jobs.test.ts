// The CLI against a real database: enqueue prints only the id; --file (and
// stdin) enqueue all or none; list/show/stats --json parse; cancel, retry,
// run-now and delete change what they say, and refuse what they must.

import { afterAll, afterEach, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { jobRow } from "../helpers/engine.ts";
import { runCli, tempDir } from "../helpers/cli.ts";

// Each CLI run is a fresh Bun process (~0.3-1s on a loaded 2-core machine).
setDefaultTimeout(30_000);

let db: TestDatabase;
let url: string;
const cwd = tempDir("claude-jobs-cwd-");
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

beforeAll(async () => {
  db = await createTestDatabase();
  url = `--database-url=${db.url}`;
});
afterEach(async () => {
  await db.sql`DELETE FROM claude_jobs`;
});
afterAll(() => db.drop());

const count = async () => (await db.sql`SELECT count(*)::int AS n FROM claude_jobs`)[0]!.n as number;
const line = (o: Record<string, unknown>) => JSON.stringify(o);
const claudeJob = (prompt: string, extra: Record<string, unknown> = {}) => ({ payload: { prompt, cwd }, ...extra });

describe("claude-jobs enqueue", () => {
  test("prints only the new job's id on stdout, and the job is stored as given", async () => {
    const { code, stdout } = await runCli(["enqueue", `--payload=${line({ prompt: "fix the tests", cwd })}`,
      "--queue=high", "--priority=7", "--max-attempts=5", "--delay=1h", url]);
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^${UUID.source.slice(1, -1)}\\n$`));
    const job = await jobRow(db.sql, stdout.trim());
    expect(job).toMatchObject({ kind: "claude", queue: "high", priority: 7, maxAttempts: 5, status: "queued" });
    expect(job.payload).toEqual({ prompt: "fix the tests", cwd });
    expect(job.runAt.getTime() - Date.now()).toBeGreaterThan(59 * 60_000);
  });

  test("--file with JSON Lines enqueues every job and prints one id per line", async () => {
    const file = join(tempDir("claude-jobs-file-"), "jobs.jsonl");
    writeFileSync(file, [line(claudeJob("one")), "", line(claudeJob("two", { queue: "low", priority: 3 })), line(claudeJob("three"))].join("\n"));
    const { code, stdout } = await runCli(["enqueue", `--file=${file}`, url]);
    expect(code).toBe(0);
    const ids = stdout.trim().split("\n");
    expect(ids).toHaveLength(3);
    for (const id of ids) expect(id).toMatch(UUID);
    expect(await count()).toBe(3);
  });

  test("--file - reads stdin, all or none: one bad line names itself and nothing is inserted", async () => {
    const stdin = [line(claudeJob("one")), line(claudeJob("two")), line(claudeJob("three", { priority: 5000 }))].join("\n");
    const bad = await runCli(["enqueue", "--file=-", url], { stdin });
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toContain("jobs[2].priority");
    expect(await count()).toBe(0);

    const good = await runCli(["enqueue", "--file=-", url], { stdin: [line(claudeJob("a")), line(claudeJob("b"))].join("\n") });
    expect(good.code).toBe(0);
    expect(good.stdout.trim().split("\n")).toHaveLength(2);
    expect(await count()).toBe(2);
  });

  test("a file line that is not JSON names its line number and nothing is inserted", async () => {
    const { code, stderr } = await runCli(["enqueue", "--file=-", url], { stdin: `${line(claudeJob("ok"))}\n{not json\n` });
    expect(code).toBe(2);
    expect(stderr).toContain("line 2");
    expect(await count()).toBe(0);
  });
});

describe("list, show and stats", () => {
  test("--json output parses and reflects the database", async () => {
    const { stdout } = await runCli(["enqueue", "--file=-", url], {
      stdin: [line(claudeJob("a", { queue: "q1" })), line(claudeJob("b", { queue: "q2", delay: "1h" }))].join("\n"),
    });
    const [first] = stdout.trim().split("\n");
    const [list, show, stats] = await Promise.all([
      runCli(["list", "--json", "--queue=q1", url]), runCli(["show", first!, "--json", url]), runCli(["stats", "--json", url]),
    ]);
    expect([list.code, show.code, stats.code]).toEqual([0, 0, 0]);
    const page = JSON.parse(list.stdout);
    expect(page.jobs.map((j: { id: string }) => j.id)).toEqual([first]);
    expect(JSON.parse(show.stdout)).toMatchObject({ id: first, queue: "q1", status: "queued", payload: { prompt: "a", cwd } });
    expect(JSON.parse(stats.stdout)).toMatchObject({ queued: 1, scheduled: 1, running: 0, total: 2 });
  });

  test("show of an id that does not exist exits 1 with one line", async () => {
    const { code, stderr } = await runCli(["show", "0192f1c4-7b1e-7cc0-8d2a-5e1f0a9b3c4d", url]);
    expect(code).toBe(1);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain("no job");
  });
});

describe("cancel, retry, run-now, delete", () => {
  const enqueue = async (extra: string[] = []) =>
    (await runCli(["enqueue", `--payload=${line({ prompt: "x", cwd })}`, ...extra, url])).stdout.trim();

  test("cancel of a queued job ends it cancelled; retry puts it back; delete removes it", async () => {
    const id = await enqueue(["--delay=1h"]);
    const cancel = await runCli(["cancel", id, url]);
    expect(cancel).toMatchObject({ code: 0, stdout: `${id} cancelled\n` });
    expect((await jobRow(db.sql, id)).status).toBe("cancelled");
    const retry = await runCli(["retry", id, "--json", url]);
    expect(retry.code).toBe(0);
    expect(JSON.parse(retry.stdout)).toMatchObject({ id, status: "queued" });
    const runNow = await runCli(["run-now", id, url]);
    expect(runNow.code).toBe(0);
    expect((await jobRow(db.sql, id)).runAt.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    expect((await runCli(["delete", id, url])).code).toBe(0);
    expect(await count()).toBe(0);
  });

  test("a finished job cannot be cancelled: exit 1, one line, the job unchanged", async () => {
    const id = await enqueue();
    await db.sql`UPDATE claude_jobs SET status = 'finished', attempts = 1, finished_at = now() WHERE id = ${id}`;
    const { code, stdout, stderr } = await runCli(["cancel", id, url]);
    expect({ code, stdout }).toEqual({ code: 1, stdout: "" });
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain("finished");
    const job = await jobRow(db.sql, id);
    expect(job.status).toBe("finished");
    expect(job.cancelRequestedAt).toBeNull();
  });

  test("retry of a queued job is refused with exit 1", async () => {
    const id = await enqueue(["--delay=1h"]);
    const { code } = await runCli(["retry", id, url]);
    expect(code).toBe(1);
    expect((await jobRow(db.sql, id)).status).toBe("queued");
  });
});
