// Issue 10: `list --status=scheduled` is accepted and scheduled jobs read as
// scheduled; the "more" cursor is printed only when there is a next page; a
// queued job (put back at shutdown) shows no duration of its earlier run;
// the first `migrate` of an embedded database says what opening it applied.

import { afterAll, afterEach, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { cliEnv, runCli, tempDir } from "../helpers/cli.ts";
import { cleanUp, tempDataDir } from "../embedded/helpers.ts";

setDefaultTimeout(30_000);

let db: TestDatabase;
let url: string;
const cwd = tempDir("claude-jobs-cwd-");

beforeAll(async () => {
  db = await createTestDatabase();
  url = `--database-url=${db.url}`;
});
afterEach(async () => {
  await db.sql`DELETE FROM claude_jobs`;
});
afterAll(() => db.drop());

async function enqueue(prompt: string, ...flags: string[]): Promise<string> {
  const r = await runCli(["enqueue", `--payload=${JSON.stringify({ prompt, cwd })}`, ...flags, url]);
  expect(r.code).toBe(0);
  return r.stdout.trim();
}

/** The human list's rows as {id: status}. */
function statuses(stdout: string): Record<string, string> {
  const [header, ...rows] = stdout.trimEnd().split("\n");
  expect(header).toMatch(/^ID\s+KIND\s+QUEUE\s+PRI\s+STATUS/);
  return Object.fromEntries(rows.map((r) => { const c = r.split(/\s+/); return [c[0]!, c[4]!]; }));
}

describe("list and scheduled jobs", () => {
  test("--status=scheduled lists only queued jobs due later; queued only those due now; the human list says scheduled", async () => {
    const due = await enqueue("due now");
    const later = await enqueue("later", "--delay=1h");
    const all = await runCli(["list", url]);
    expect(all.code).toBe(0);
    expect(statuses(all.stdout)).toEqual({ [due]: "queued", [later]: "scheduled" });

    const scheduled = await runCli(["list", "--status=scheduled", url]);
    expect(scheduled.stderr).toBe("");
    expect(scheduled.code).toBe(0);
    expect(statuses(scheduled.stdout)).toEqual({ [later]: "scheduled" });

    const queued = await runCli(["list", "--status=queued", url]);
    expect(queued.code).toBe(0);
    expect(statuses(queued.stdout)).toEqual({ [due]: "queued" });

    // JSON: status is the column's value; `scheduled` tells the two apart.
    const json = await runCli(["list", "--status=scheduled", "--json", url]);
    expect(json.code).toBe(0);
    const page = JSON.parse(json.stdout);
    expect(page.jobs.map((j: Record<string, unknown>) => [j.id, j.status, j.scheduled])).toEqual([[later, "queued", true]]);
    const shown = JSON.parse((await runCli(["show", due, "--json", url])).stdout);
    expect([shown.status, shown.scheduled]).toEqual(["queued", false]);
    expect((await runCli(["show", later, url])).stdout).toMatch(/^status\s+scheduled$/m);
  });

  test("an unknown status is still refused, naming scheduled among the choices", async () => {
    const r = await runCli(["list", "--status=pending", url]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("scheduled");
  });
});

describe("list pages", () => {
  test("a page exactly full prints no 'more' cursor; a page with more after it prints one that leads to the rest", async () => {
    for (const p of ["one", "two", "three"]) await enqueue(p);
    const exact = await runCli(["list", "--limit=3", url]);
    expect(exact.code).toBe(0);
    expect(Object.keys(statuses(exact.stdout))).toHaveLength(3);
    expect(exact.stderr).not.toContain("more:");
    expect(JSON.parse((await runCli(["list", "--limit=3", "--json", url])).stdout).next).toBeNull();

    const first = await runCli(["list", "--limit=2", url]);
    expect(Object.keys(statuses(first.stdout))).toHaveLength(2);
    const cursor = first.stderr.match(/more: claude-jobs list --cursor=(\S+)/)?.[1];
    expect(cursor).toBeDefined();
    const second = await runCli(["list", "--limit=2", `--cursor=${cursor}`, url]);
    expect(second.code).toBe(0);
    expect(Object.keys(statuses(second.stdout))).toHaveLength(1);
    expect(second.stderr).not.toContain("more:");
  });
});

describe("a job put back in the queue", () => {
  test("shows no duration from its earlier run in show or list", async () => {
    const id = await enqueue("put back");
    // What a worker's shutdown leaves: queued again, attempt refunded, started_at of the run it stopped.
    await db.sql`UPDATE claude_jobs SET started_at = now() - interval '2 hours', finished_at = NULL, attempts = 0 WHERE id = ${id}`;
    const shown = await runCli(["show", id, url]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).not.toMatch(/^duration/m);
    expect(shown.stdout).toMatch(/^last started\s+\S+/m);
    const list = await runCli(["list", url]);
    const [header, row] = list.stdout.trimEnd().split("\n");
    const at = header!.indexOf("DURATION");
    expect(row!.slice(at, header!.indexOf("PROMPT")).trim()).toBe("");
  });
});

describe("migrate on the embedded database", () => {
  afterAll(() => cleanUp());

  test("the first migrate says the database was migrated when it was opened, and what that applied", async () => {
    const dataDir = tempDataDir();
    const env = cliEnv({ CLAUDE_JOBS_DATA_DIR: dataDir });
    try {
      const first = await runCli(["migrate"], { env });
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(/^the embedded database was migrated when it was opened: applied 001_\S+(, \S+)*; schema is at migration \d+\n$/);
      expect(first.stdout).not.toContain("nothing to do");
      const again = await runCli(["migrate", "--json"], { env });
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({ applied: [], appliedWhenOpened: [] });
    } finally {
      await runCli(["db", "stop"], { env });
    }
  }, 120_000);
});
