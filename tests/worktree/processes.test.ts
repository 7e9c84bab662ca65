// Worktree jobs across `claude-jobs worker` processes: the repository's limit
// holds for all of them at once (the database's numbered slots), a worker
// SIGKILLed mid-job leaves no stale worktree once its job is rescued and run
// again in the same worktree, and `enqueue --worktree` outside a repository
// is a clear error.

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { worktreeFor } from "../../src/git/worktree.ts";
import type { WorktreeResult } from "../../src/handlers/claude/index.ts";
import { Queue } from "../../src/queue/client.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { cliEnv, runCli } from "../helpers/cli.ts";
import { waitFor } from "../helpers/wait.ts";
import { killCliWorkers, startCliWorker, waitForJob, type CliWorker } from "../claude/helpers.ts";
import { changedFiles, gitIn, GIT_ISOLATION, makeRepo, staleEntries, tempDir, worktreePaths } from "./helpers.ts";

let db: TestDatabase;
let queue: Queue;
const workers: CliWorker[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  queue = new Queue(db.sql);
});
afterEach(() => killCliWorkers(workers));
afterAll(() => db.drop());

async function worker(root: string, env: Record<string, string> = {}, args: string[] = []): Promise<CliWorker> {
  const w = await startCliWorker(db.url, [`--worktree-dir=${root}`, "--concurrency=4", ...args], { ...GIT_ISOLATION, ...env });
  workers.push(w);
  return w;
}

/** The most runs alive at one instant, from the fake's start/end records. */
function peakOverlap(runsFile: string): number {
  const events = readFileSync(runsFile, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { event: string; t: number });
  // At equal times an end is counted before a start: a slot freed and taken in one millisecond is no overlap.
  events.sort((a, b) => a.t - b.t || (a.event === "end" ? -1 : 1));
  let now = 0;
  let peak = 0;
  for (const e of events) {
    now += e.event === "start" ? 1 : -1;
    peak = Math.max(peak, now);
  }
  return peak;
}

describe("worktree jobs and worker processes", () => {
  test("a repository's limit of 2 holds across three worker processes of one slot each; every job gets its own branch", async () => {
    const repo = makeRepo();
    const root = tempDir("wt-root-");
    const runs = join(tempDir("wt-runs-"), "runs.jsonl");
    // One job at a time each: three could run, so only the key's limit holds the third back.
    await Promise.all([0, 1, 2].map(() => worker(root, { FAKE_CLAUDE_RUNS_FILE: runs }, ["--concurrency=1"])));
    const ids = await queue.enqueueMany([0, 1, 2, 3, 4, 5].map((n) => ({
      concurrencyLimit: 2, payload: { cwd: repo, worktree: true, prompt: `fake:write=f${n}.txt:${n} fake:sleep=1200ms` },
    })));
    const jobs = await Promise.all(ids.map((id) => waitForJob(queue, id, undefined, 45_000)));
    expect(jobs.map((j) => j.status)).toEqual(Array(6).fill("finished"));
    expect(new Set(jobs.map((j) => j.workerId)).size).toBeGreaterThan(1);
    expect(peakOverlap(runs)).toBe(2);
    const base = gitIn(repo, "rev-parse", "HEAD");
    jobs.forEach((j, n) => {
      const w = j.result?.worktree as WorktreeResult;
      expect(changedFiles(repo, base, w.branch)).toEqual([`f${n}.txt`]);
    });
    expect(worktreePaths(repo)).toHaveLength(7);
  });

  for (const folderGone of [false, true]) {
    test(`a worker SIGKILLed mid-job: the rescued job runs again in the same worktree${folderGone ? ", re-created when its folder was deleted meanwhile," : ""} and git keeps no stale entry`, async () => {
      const repo = makeRepo();
      const root = tempDir("wt-root-");
      const doomed = await worker(root, { FAKE_CLAUDE_HANG: "1" });
      const id = await queue.enqueue({ payload: { cwd: repo, worktree: true, prompt: "fake:write=a.txt:work" } });
      const { path, branch } = worktreeFor(repo, id, root);
      await waitFor("the agent's first edit in the worktree", () => existsSync(join(path, "a.txt")), { timeoutMs: 20_000 });
      doomed.proc.kill("SIGKILL");
      await doomed.exited;
      if (folderGone) {
        // Deleted by hand or by a disk cleaner: git's entry for it is stale now.
        rmSync(path, { recursive: true, force: true });
        expect(staleEntries(repo)).toContain(path.split("/").pop()!);
      }

      await worker(root);
      const job = await waitForJob(queue, id, undefined, 45_000);
      expect(job.status).toBe("finished");
      expect(job.attempts).toBe(2);
      const w = job.result?.worktree as WorktreeResult;
      expect(w).toMatchObject({ path, branch, rootJobId: id, changed: true, filesChanged: 1 });
      expect(readFileSync(String(job.result?.stderrLog), "utf8")).toContain(folderGone ? "(created; base" : "(reused; base");
      expect(worktreePaths(repo)).toEqual([repo, path]);
      expect(staleEntries(repo)).toBe("");
      expect(changedFiles(repo, w.baseCommit, branch)).toEqual(["a.txt"]);
    });
  }

  test("worker --worktree-ttl and --worktree-dir are checked before anything starts", async () => {
    const env = cliEnv({ DATABASE_URL: db.url, ...GIT_ISOLATION });
    const bad = await runCli(["worker", "--worktree-ttl=soon"], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--worktree-ttl: must be a duration");
    const help = await runCli(["worker", "--help"], { env });
    expect(help.stdout).toContain("--worktree-dir");
    expect(help.stdout).toContain("CLAUDE_JOBS_WORKTREE_TTL");
  });

  test("enqueue --worktree outside a git repository exits 2 naming payload.cwd and --worktree, and enqueues nothing", async () => {
    const plain = tempDir("wt-plain-");
    const env = cliEnv({ DATABASE_URL: db.url, ...GIT_ISOLATION });
    const before = (await queue.stats()).total;
    const r = await runCli(["enqueue", "--worktree", `--payload=${JSON.stringify({ prompt: "hi", cwd: plain })}`], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("payload.worktree: (--worktree) needs payload.cwd inside a git repository");
    expect(r.stderr).toContain(plain);
    expect(r.stdout).toBe("");
    expect((await queue.stats()).total).toBe(before);

    const repo = makeRepo();
    const ok = await runCli(["enqueue", "--worktree", "--queue=nobody", `--payload=${JSON.stringify({ prompt: "hi", cwd: repo })}`], { env });
    expect(ok.code).toBe(0);
    const job = await queue.get(ok.stdout.trim());
    expect(job.payload).toMatchObject({ worktree: true, base_commit: gitIn(repo, "rev-parse", "HEAD") });
    expect(job.concurrencyKey).toBe(`claude:repo:${join(repo, ".git")}`);
  });
});
