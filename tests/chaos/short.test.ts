// The chaos suite's short form as a test: `bun tests/chaos/run.ts --short`
// (main with 2,000 jobs and fewer faults, backend-cut and claude-kill
// shortened; about a minute here) must meet every target. The suite runs on
// its own private PostgreSQL, never on the test server. Its verdicts are
// printed as they come, so a failure says which target was missed and why.

import { afterAll, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { join } from "node:path";

let runner: Subprocess | null = null;

// A test that times out is abandoned, not unwound: SIGTERM lets the runner
// stop its PostgreSQL and workers itself.
afterAll(() => {
  if (runner && runner.exitCode === null) runner.kill("SIGTERM");
});

test("chaos --short meets every target", async () => {
  runner = Bun.spawn([process.execPath, join(import.meta.dir, "run.ts"), "--short"], {
    cwd: join(import.meta.dir, "../.."), stdout: "inherit", stderr: "inherit",
  });
  expect(await runner.exited).toBe(0);
}, 10 * 60_000);
