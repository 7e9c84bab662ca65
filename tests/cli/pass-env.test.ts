// `worker --pass-env` (and CLAUDE_JOBS_PASS_ENV, and `serve`): the Claude CLI
// gets its allow-list of the worker's environment plus what is listed, by
// name or prefix, never the queue's own credentials: an entry that names or
// would take DATABASE_URL, PG* or CLAUDE_JOBS_* is refused with exit 2, as is
// one that is no variable name.

import { afterAll, afterEach, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Queue } from "../../src/queue/client.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { cliEnv, runCli, tempDir } from "../helpers/cli.ts";
import { killCliWorkers, startCliWorker, waitForJob, type CliWorker } from "../claude/helpers.ts";

setDefaultTimeout(30_000);

let db: TestDatabase;
const started: CliWorker[] = [];
beforeAll(async () => {
  db = await createTestDatabase();
});
afterEach(() => killCliWorkers(started));
afterAll(() => db.drop());

describe("what the Claude CLI gets", () => {
  test("the names and prefixes listed, beside the allow-list; DATABASE_URL and other variables not", async () => {
    const envFile = join(tempDir("claude-jobs-env-"), "env.json");
    const w = await startCliWorker(db.url, ["--pass-env=MY_TOOL_HOME, AWS_*"], {
      FAKE_CLAUDE_ENV_FILE: envFile, MY_TOOL_HOME: "/opt/tool", AWS_REGION: "eu-west-1", AWS_PROFILE: "jobs",
      UNLISTED_SECRET: "nope", PGPASSWORD: "nope", CLAUDE_JOBS_TOKEN: "nope-".repeat(8),
    });
    started.push(w);
    const queue = new Queue(db.sql);
    const id = await queue.enqueue({ payload: { prompt: "hello", cwd: tempDir("claude-jobs-cwd-") } });
    expect((await waitForJob(queue, id)).status).toBe("finished");
    const env = JSON.parse(readFileSync(envFile, "utf8")) as Record<string, string>;
    expect(env).toMatchObject({ MY_TOOL_HOME: "/opt/tool", AWS_REGION: "eu-west-1", AWS_PROFILE: "jobs", FAKE_CLAUDE_ENV_FILE: envFile });
    for (const name of ["DATABASE_URL", "UNLISTED_SECRET", "PGPASSWORD", "CLAUDE_JOBS_TOKEN"]) expect(env[name]).toBeUndefined();
  });
});

describe("refused entries: exit 2, one line naming --pass-env, nothing started", () => {
  const cases: [string, string[], Record<string, string>, RegExp][] = [
    ["not a variable name", ["worker", "--pass-env=AWS-REGION"], {}, /"AWS-REGION" is not a variable name/],
    ["everything", ["worker", "--pass-env=*"], {}, /"\*" is not a variable name/],
    ["a star inside", ["serve", "--port=0", "--pass-env=A*B"], {}, /"A\*B" is not a variable name/],
    ["DATABASE_URL", ["worker", "--pass-env=HOME_X,DATABASE_URL"], {}, /"DATABASE_URL" would pass DATABASE_URL/],
    ["a prefix taking DATABASE_URL", ["worker", "--pass-env=DATA*"], {}, /"DATA\*" would pass DATABASE_URL/],
    ["a PG variable", ["worker", "--pass-env=PGPASSWORD"], {}, /would pass PG\* variables/],
    ["a prefix taking PG*", ["serve", "--port=0", "--pass-env=P*"], {}, /"P\*" would pass PG\* variables/],
    ["claude-jobs' own", ["worker"], { CLAUDE_JOBS_PASS_ENV: "CLAUDE_JOBS_TOKEN" }, /would pass CLAUDE_JOBS_\* variables/],
  ];
  for (const [what, args, env, message] of cases) {
    test(what, async () => {
      const r = await runCli([...args, `--database-url=${db.url}`], { env: cliEnv(env) });
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: "" });
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain("--pass-env: ");
      expect(r.stderr).toMatch(message);
    });
  }

  test("--help names it with its variable", async () => {
    for (const command of ["worker", "serve"]) {
      const r = await runCli([command, "--help"]);
      expect(r.stdout).toMatch(/--pass-env=<value>\s+more of this environment for the Claude CLI.*\[env CLAUDE_JOBS_PASS_ENV\]/);
    }
  });
});
