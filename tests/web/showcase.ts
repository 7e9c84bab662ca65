// Realistic rows for the browser test's screenshots: an hour of finished and
// failed Claude jobs, some queued and scheduled ones, and one finished job with
// a result, an error on its first attempt and a stream-json log.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TestDatabase } from "../helpers/db.ts";
import { insertJob } from "./helpers.ts";

const PROMPTS = [
  "Fix the flaky test in tests/engine/rescue.test.ts and explain the race",
  "Add pagination to the /api/users endpoint and update the OpenAPI spec",
  "Review the open PR for SQL injection risks and summarize findings",
  "Migrate the config loader from YAML to TOML, keeping backwards compatibility",
  "Write a changelog entry for release 2.4 from the merged PRs",
  "Profile the image resize worker and reduce its memory use",
  "Translate the onboarding emails into German and French",
  "Bump dependencies, run the tests, and open a PR if green",
];
const QUEUES = ["default", "default", "high", "nightly"];

export async function seedShowcase(db: TestDatabase, logDir: string): Promise<string> {
  for (let i = 0; i < 48; i++) {
    const failed = i % 9 === 4;
    const id = await insertJob(db, {
      status: failed ? "failed" : "finished", queue: QUEUES[i % QUEUES.length], priority: i % 4 === 2 ? 10 : 0,
      payload: { prompt: PROMPTS[i % PROMPTS.length]!, cwd: "/srv/repos/app" }, attempts: failed ? 3 : 1,
      createdSecondsAgo: 3600 - i * 70,
      errors: failed ? [{ attempt: 3, at: new Date().toISOString(), message: "claude exited with code 1: API Error: Rate limit reached" }] : [],
      result: { totalCostUsd: 0.02 + (i % 7) * 0.013, numTurns: 3 + (i % 11), subtype: failed ? "error_during_execution" : "success" },
    });
    const minutesAgo = 58 - i * 1.2;
    await db.sql`UPDATE claude_jobs SET finished_at = now() - ${minutesAgo + " minutes"}::interval,
      started_at = now() - ${minutesAgo + 1 + (i % 5) + " minutes"}::interval WHERE id = ${id}`;
  }
  for (let i = 0; i < 3; i++) await insertJob(db, { queue: "default", payload: { prompt: PROMPTS[(i + 3) % PROMPTS.length]!, cwd: "/srv/repos/app" } });
  await insertJob(db, { queue: "nightly", runInSeconds: 7200, payload: { prompt: "Nightly: audit dependencies for known CVEs", cwd: "/srv/repos/app" } });
  await insertJob(db, { status: "cancelled", payload: { prompt: "Rewrite the README in a friendlier tone", cwd: "/srv/repos/docs" } });

  const id = await insertJob(db, {
    status: "finished", queue: "high", priority: 10, attempts: 2, createdSecondsAgo: 30,
    payload: { prompt: "Upgrade the test suite to bun test and fix the failures.\nKeep the fixtures; do not touch the CI config.", cwd: "/srv/repos/app", model: "sonnet", max_turns: 30 },
    errors: [{ attempt: 1, at: new Date(Date.now() - 25_000).toISOString(), message: "claude exited with code 1: API Error: 529 Overloaded (will retry in 20s)" }],
    result: {
      sessionId: "5f1d0c3e-8a2b-4c1d-9e0f-7a6b5c4d3e2f", model: "claude-sonnet-4-6", subtype: "success", isError: false,
      numTurns: 7, durationMs: 48_200, totalCostUsd: 0.1842, exitCode: 0,
      result: "Moved 14 test files from Jest to bun:test, replaced jest.fn with mock(), and fixed 2 failures caused by fake timers. All 212 tests pass.",
    },
  });
  const events = [
    { type: "system", subtype: "init", model: "claude-sonnet-4-6", cwd: "/srv/repos/app", session_id: "5f1d0c3e-8a2b-4c1d-9e0f-7a6b5c4d3e2f" },
    { type: "assistant", message: { content: [{ type: "text", text: "I'll start by finding the Jest configuration and the test files." }, { type: "tool_use", name: "Bash", input: { command: "git ls-files '*.test.ts' | head -20" } }] } },
    { type: "user", message: { content: [{ type: "tool_result", content: "tests/api.test.ts\ntests/db.test.ts\ntests/queue.test.ts" }] } },
    { type: "assistant", message: { content: [{ type: "tool_use", name: "Edit", input: { file_path: "tests/api.test.ts", old_string: "import { jest } from '@jest/globals'", new_string: "import { mock } from 'bun:test'" } }] } },
    { type: "user", message: { content: [{ type: "tool_result", content: "The file tests/api.test.ts has been updated." }] } },
    { type: "assistant", message: { content: [{ type: "tool_use", name: "Bash", input: { command: "bun test" } }] } },
    { type: "user", message: { content: [{ type: "tool_result", is_error: true, content: "2 fail: tests/queue.test.ts > retries after backoff (fake timers)" }] } },
    { type: "assistant", message: { content: [{ type: "text", text: "Two failures come from fake timers; bun:test uses setSystemTime instead. Fixing." }] } },
    { type: "result", subtype: "success", is_error: false, num_turns: 7, total_cost_usd: 0.1842, result: "Moved 14 test files from Jest to bun:test. All 212 tests pass." },
  ];
  writeFileSync(join(logDir, `${id}-${new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15)}.stdout.log`), events.map((e) => JSON.stringify(e)).join("\n") + "\n");
  return id;
}
