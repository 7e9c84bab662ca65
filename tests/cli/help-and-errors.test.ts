// The CLI's contract with people and scripts: every command's --help exits 0
// and names each flag's env var; bad flags, ids and payloads exit 2 with one
// line naming the field and change nothing (durations too long for a timer
// included); an unreachable database is one line and exit 1, never a stack
// trace, for every command but worker and serve (which wait for it).

import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { COMMANDS } from "../../src/cli/main.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { runCli, tempDir } from "../helpers/cli.ts";

// Each CLI run is a fresh Bun process (~0.3-1s on a loaded 2-core machine).
setDefaultTimeout(30_000);

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

const count = async () => (await db.sql`SELECT count(*)::int AS n FROM claude_jobs`)[0]!.n as number;
const oneLine = (text: string) => text.trim().split("\n").length === 1;

describe("--help", () => {
  test("every command's --help exits 0 and shows each flag with its env var", async () => {
    // Three at a time: a burst of fifteen Bun processes starves a 2-core machine.
    const results: Awaited<ReturnType<typeof runCli>>[] = [];
    for (let i = 0; i < COMMANDS.length; i += 3) {
      results.push(...(await Promise.all(COMMANDS.slice(i, i + 3).map((c) => runCli([c.spec.name, "--help"])))));
    }
    for (const [i, { code, stdout }] of results.entries()) {
      const spec = COMMANDS[i]!.spec;
      expect({ command: spec.name, code }).toEqual({ command: spec.name, code: 0 });
      for (const [name, option] of Object.entries(spec.options)) {
        expect(stdout).toContain(`--${name}`);
        if (option.env) expect(stdout).toContain(`env ${option.env}`);
      }
    }
    // The database flag exists with its env var on every command that opens the database.
    expect(results.filter((r) => r.stdout.includes("env DATABASE_URL")).length).toBeGreaterThanOrEqual(10);
  }, 90_000);
});

describe("bad input: exit 2, one line naming the field, nothing written", () => {
  const cwd = tempDir("claude-jobs-cwd-");
  const payload = JSON.stringify({ prompt: "hi", cwd });
  const cases: [string, string[], RegExp][] = [
    ["an unknown flag", ["enqueue", `--payload=${payload}`, "--colour=red"], /colour/],
    ["a priority that is not a number", ["enqueue", `--payload=${payload}`, "--priority=high"], /--priority/],
    ["a priority out of range", ["enqueue", `--payload=${payload}`, "--priority=5000"], /priority/],
    ["max attempts of zero", ["enqueue", `--payload=${payload}`, "--max-attempts=0"], /max_attempts/],
    ["a bad queue name", ["enqueue", `--payload=${payload}`, "--queue=Not Valid"], /queue/],
    ["a bad delay", ["enqueue", `--payload=${payload}`, "--delay=soon"], /delay/],
    ["a bad run-at", ["enqueue", `--payload=${payload}`, "--run-at=tomorrow"], /run_at/],
    ["a payload that is not JSON", ["enqueue", "--payload={prompt:"], /--payload/],
    ["a payload that is an array", ["enqueue", "--payload=[1,2]"], /--payload/],
    ["a missing payload", ["enqueue"], /--payload/],
    ["a payload without a prompt", ["enqueue", `--payload=${JSON.stringify({ cwd })}`], /payload\.prompt/],
    ["a payload whose cwd does not exist", ["enqueue", `--payload=${JSON.stringify({ prompt: "x", cwd: "/no/such" })}`], /payload\.cwd/],
    ["a bad job id to show", ["show", "not-a-uuid"], /\bid\b/],
    ["a bad job id to cancel", ["cancel", "12345"], /\bid\b/],
    ["a missing job id", ["retry"], /arguments/],
    ["a bad status filter", ["list", "--status=done"], /status/],
    ["a worker concurrency of zero", ["worker", "--concurrency=0"], /--concurrency/],
    ["a worker poll interval without a unit", ["worker", "--poll-interval=5"], /--poll-interval/],
    // Past 2^31-1 ms a timer fires after 1ms: a huge interval would poll every millisecond.
    ["a worker poll interval longer than a timer holds", ["worker", "--poll-interval=99999999h"], /--poll-interval: must be at most 7d/],
    ["a worker rescue interval too long", ["worker", "--rescue-interval=99999999h"], /--rescue-interval: must be at most 7d/],
    ["a worker shutdown timeout too long", ["worker", "--shutdown-timeout=99999999h"], /--shutdown-timeout: must be at most 24d/],
    ["a worker job timeout too long", ["worker", "--job-timeout=99999999h"], /--job-timeout: must be at most 24d/],
    ["a worker kill grace too long", ["worker", "--kill-grace=99999999h"], /--kill-grace: must be at most 24d/],
    ["a serve poll interval too long", ["serve", "--poll-interval=99999999h"], /--poll-interval: must be at most 7d/],
    ["a logs poll interval too long", ["logs", "00000000-0000-4000-8000-000000000000", "--follow", "--poll-interval=99999999h"], /--poll-interval: must be at most 7d/],
  ];

  for (const [what, args, field] of cases) {
    test(`${what} is refused`, async () => {
      const { code, stdout, stderr } = await runCli([...args, `--database-url=${db.url}`]);
      expect({ code, stdout }).toEqual({ code: 2, stdout: "" });
      expect(oneLine(stderr)).toBe(true);
      expect(stderr).toMatch(field);
      expect(stderr).not.toMatch(/^\s+at /m);
      expect(await count()).toBe(0);
    });
  }
});

describe("an unreachable database", () => {
  // worker and serve wait for it instead: wait-for-database.test.ts.
  test("is one line and exit 1, with no stack trace", async () => {
    for (const args of [["list"], ["enqueue", `--payload={"prompt":"x","cwd":"/"}`], ["stats"]]) {
      const { code, stdout, stderr } = await runCli([...args, "--database-url=postgres://postgres@127.0.0.1:1/nowhere"]);
      expect({ args, code, stdout }).toEqual({ args, code: 1, stdout: "" });
      expect(oneLine(stderr)).toBe(true);
      expect(stderr).toContain("cannot connect to PostgreSQL");
      expect(stderr).not.toMatch(/^\s+at /m);
    }
  });

  test("a database URL that is not a postgres URL is one clear line and a non-zero exit", async () => {
    const { code, stderr } = await runCli(["list", "--database-url=mysql://localhost/db"]);
    expect(code).not.toBe(0);
    expect(oneLine(stderr)).toBe(true);
    expect(stderr).toContain("postgres://");
  });
});
