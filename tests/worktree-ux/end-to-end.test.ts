// The review cycle with the real engine: an in-process worker runs the
// Claude handler (the fake CLI editing files in its cwd) in worktrees of a
// real repository; the diff shows what the agent did, a follow-up (also of
// a job still running) resumes the same session on the same branch, the
// job page shows both, and discard leaves no folder, entry or branch.

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { createClaudeHandler } from "../../src/handlers/claude/index.ts";
import { Queue } from "../../src/queue/client.ts";
import { branchDiff } from "../../src/git/diff.ts";
import { jobWorktree } from "../../src/review/worktree-of.ts";
import { enqueueFollowUp } from "../../src/review/follow-up.ts";
import { discardWorktree } from "../../src/review/discard.ts";
import { createApp } from "../../src/web/app.tsx";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { WorkerPool } from "../helpers/engine.ts";
import { FAKE_PASS_ENV } from "../handlers/claude-helpers.ts";
import { waitForJob } from "../claude/helpers.ts";
import { gitIn, makeRepo, tempDir, worktreeEnv, worktreePaths } from "../worktree/helpers.ts";
import { TEST_TOKEN } from "../web/helpers.ts";
import type { JobRecord } from "../../src/handlers/types.ts";

let db: TestDatabase;
const pool = new WorkerPool();
beforeAll(async () => {
  db = await createTestDatabase();
});
afterEach(() => pool.stopAll(5000));
afterAll(() => db.drop());

async function startWorker(queueName: string) {
  const handler = createClaudeHandler({
    logDir: tempDir("ux-logs-"), worktreeDir: tempDir("ux-wt-"), killGraceMs: 1000, env: worktreeEnv(), passEnv: FAKE_PASS_ENV,
  });
  await pool.start({ sql: db.sql, handlers: { claude: handler }, queues: [queueName], concurrency: 2 });
  return new Queue(db.sql, { handlers: { claude: handler } });
}

const recordOf = (job: JobRecord) => {
  const w = jobWorktree(job);
  if (w.kind !== "recorded") throw new Error(`job ${job.id} recorded no worktree: ${JSON.stringify(job.result)}`);
  return w.record;
};

describe("diff, follow-up and discard with the real engine", () => {
  test("the diff shows the agent's work; a follow-up resumes the session on the same branch; discard removes it all", async () => {
    const repo = makeRepo({ "README.md": "hello\n" });
    const queue = await startWorker("ux-cycle");
    const base = gitIn(repo, "rev-parse", "HEAD");
    const rootId = await queue.enqueue({ queue: "ux-cycle", maxAttempts: 1, payload: { worktree: true, cwd: repo, prompt: "fake:write=a.txt:first fake:write=README.md:changed" } });
    const root = await waitForJob(queue, rootId);
    expect(root.status).toBe("finished");
    const record = recordOf(root);
    const first = await branchDiff(record);
    expect(first.state).toBe("ready");
    if (first.state !== "ready") return;
    expect(first.files.map((f) => [f.status, f.path])).toEqual([["modified", "README.md"], ["added", "a.txt"]]);
    expect(first.record.baseCommit).toBe(base);

    const nextId = await enqueueFollowUp(queue, rootId, "fake:write=b.txt:second");
    const next = await waitForJob(queue, nextId);
    expect(next.status).toBe("finished");
    expect(next.result?.sessionId).toBe(root.result?.sessionId);
    const nextRecord = recordOf(next);
    expect(nextRecord).toMatchObject({ rootJobId: rootId, branch: record.branch, path: record.path, baseCommit: base });
    const both = await branchDiff(nextRecord);
    expect(both.state === "ready" && both.files.map((f) => f.path)).toEqual(["README.md", "a.txt", "b.txt"]);

    // The root's page: its diff is the whole branch now, and the chain names the follow-up.
    const app = createApp({ queue, sql: db.sql, token: TEST_TOKEN, onError: () => {} });
    const html = await (await app.handle(new Request(`http://localhost/jobs/${rootId}`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } }))).text();
    expect(html).toContain('data-changes-state="ready"');
    expect(html).toContain("b.txt");
    expect(html).toContain(`data-chain-job="${nextId}"`);

    const discarded = await discardWorktree(db.sql, await queue.get(nextId));
    expect(discarded).toMatchObject({ rootJobId: rootId, removedPath: true, deletedBranch: true });
    expect(existsSync(record.path)).toBe(false);
    expect(worktreePaths(repo)).toEqual([repo]);
    expect(gitIn(repo, "branch", "--list", record.branch)).toBe("");
    expect((await branchDiff(record)).state).toBe("discarded");
    // The user's checkout never moved.
    expect(gitIn(repo, "rev-parse", "HEAD")).toBe(base);
    expect(gitIn(repo, "status", "--porcelain")).toBe("");
  }, 60_000);

  test("a follow-up of a running job waits for it, then runs on its branch with its session", async () => {
    const repo = makeRepo();
    const queue = await startWorker("ux-after");
    const rootId = await queue.enqueue({ queue: "ux-after", maxAttempts: 1, payload: { worktree: true, cwd: repo, prompt: "fake:write=a.txt:1 fake:sleep=2500ms" } });
    // The session id is recorded while the run goes on.
    const running = await waitForJob(queue, rootId, (j) => j.status === "running" && typeof j.result?.sessionId === "string");
    const nextId = await enqueueFollowUp(queue, rootId, "fake:write=b.txt:2");
    expect((await queue.get(nextId)).status).toBe("waiting");
    const next = await waitForJob(queue, nextId);
    const root = await queue.get(rootId);
    expect(next.status).toBe("finished");
    expect(next.startedAt!.getTime()).toBeGreaterThanOrEqual(root.finishedAt!.getTime());
    expect(next.result?.sessionId).toBe(running.result?.sessionId);
    expect(recordOf(next).branch).toBe(recordOf(root).branch);
    const d = await branchDiff(recordOf(next));
    expect(d.state === "ready" && d.files.map((f) => f.path)).toEqual(["a.txt", "b.txt"]);
  }, 60_000);
});
