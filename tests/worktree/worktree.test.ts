// A Claude job with payload.worktree runs in a git worktree of its own, on a
// branch named after it, made from the commit the repository was at when the
// job was enqueued: real repositories, the fake CLI editing files in its cwd,
// in-process workers on a real database.

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../../src/errors.ts";
import { removeWorktree, worktreeFor } from "../../src/git/worktree.ts";
import { createClaudeHandler, validateClaudePayload, type ClaudeHandlerOptions, type WorktreeResult } from "../../src/handlers/claude/index.ts";
import type { JobRecord } from "../../src/handlers/types.ts";
import { Queue } from "../../src/queue/client.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { WorkerPool } from "../helpers/engine.ts";
import { FAKE_PASS_ENV, makeJob, runJob } from "../handlers/claude-helpers.ts";
import { waitFor } from "../helpers/wait.ts";
import { waitForJob } from "../claude/helpers.ts";
import { changedFiles, gitIn, makeRepo, staleEntries, tempDir, worktreeEnv, worktreePaths } from "./helpers.ts";

let db: TestDatabase;
const pool = new WorkerPool();

beforeAll(async () => {
  db = await createTestDatabase();
});
afterEach(() => pool.stopAll(5000));
afterAll(() => db.drop());

/** A worker running the Claude handler (worktrees in a folder of the test's), and a Queue that knows the handler's limits. */
async function startWorker(options: ClaudeHandlerOptions & { queue: string; concurrency?: number }) {
  const worktreeDir = options.worktreeDir ?? tempDir("wt-root-");
  const logDir = tempDir("wt-logs-");
  const handler = createClaudeHandler({ logDir, killGraceMs: 1000, env: worktreeEnv(), passEnv: FAKE_PASS_ENV, ...options, worktreeDir });
  await pool.start({ sql: db.sql, handlers: { claude: handler }, queues: [options.queue], concurrency: options.concurrency ?? 4 });
  const queue = new Queue(db.sql, { handlers: { claude: handler } });
  return { queue, worktreeDir, logDir };
}

const worktreeOf = (job: JobRecord) => job.result?.worktree as WorktreeResult;
const stderrLogOf = (job: JobRecord) => readFileSync(String(job.result?.stderrLog ?? (job.errors.at(-1) && "")), "utf8");
const enqueue = (queue: Queue, q: string, payload: Record<string, unknown>, maxAttempts = 1) =>
  queue.enqueue({ queue: q, payload: { worktree: true, ...payload }, maxAttempts });

describe("a worktree per job", () => {
  test("two jobs for one repository run at once in two worktrees and leave two branches with their own commits", async () => {
    const repo = makeRepo();
    const { queue, worktreeDir } = await startWorker({ queue: "two" });
    const base = gitIn(repo, "rev-parse", "HEAD");
    const [a, b] = await Promise.all([
      enqueue(queue, "two", { cwd: repo, prompt: "Add a.\nfake:write=a.txt:from-a fake:sleep=1500ms" }),
      enqueue(queue, "two", { cwd: repo, prompt: "fake:write=b.txt:from-b fake:write=README.md:changed fake:sleep=1500ms" }),
    ]);
    const [ja, jb] = await Promise.all([waitForJob(queue, a), waitForJob(queue, b)]);
    expect([ja.status, jb.status]).toEqual(["finished", "finished"]);
    // Both held the repository's key at once: its limit is 3, not 1.
    expect(ja.concurrencyKey).toBe(jb.concurrencyKey);
    expect(ja.concurrencyKey).toStartWith("claude:repo:");
    expect(Math.max(ja.startedAt!.getTime(), jb.startedAt!.getTime())).toBeLessThan(Math.min(ja.finishedAt!.getTime(), jb.finishedAt!.getTime()));

    const wa = worktreeOf(ja);
    const wb = worktreeOf(jb);
    expect(wa).toMatchObject({ rootJobId: a, repository: repo, branch: `claude-jobs/${a}`, baseCommit: base, changed: true,
      filesChanged: 1, insertions: 1, deletions: 0, committedLeftovers: true });
    expect(wb).toMatchObject({ branch: `claude-jobs/${b}`, baseCommit: base, filesChanged: 2, insertions: 2, deletions: 1 });
    expect(wa.path).toBe(worktreeFor(repo, a, worktreeDir).path);
    expect(wa.path.startsWith(worktreeDir)).toBe(true);
    expect(changedFiles(repo, base, wa.branch)).toEqual(["a.txt"]);
    expect(changedFiles(repo, base, wb.branch)).toEqual(["README.md", "b.txt"]);
    expect(gitIn(repo, "rev-parse", wa.branch)).toBe(wa.headCommit);
    // The message comes from the result's first line, with the job's id as a trailer; the identity is claude-jobs' own.
    expect(gitIn(repo, "log", "-1", "--format=%s", wa.branch)).toBe("echo: Add a.");
    expect(gitIn(repo, "log", "-1", "--format=%(trailers:key=Claude-Jobs-Job,valueonly)", wa.branch)).toBe(a);
    expect(gitIn(repo, "log", "-1", "--format=%an <%ae>", wa.branch)).toBe("claude-jobs <claude-jobs@localhost>");
    // The user's checkout is untouched.
    expect(gitIn(repo, "status", "--porcelain")).toBe("");
    expect(gitIn(repo, "rev-parse", "HEAD")).toBe(base);
    expect(worktreePaths(repo).sort()).toEqual([repo, wa.path, wb.path].sort());
  });

  test("a job that changes nothing says so; one whose agent committed itself has nothing left to commit", async () => {
    const repo = makeRepo();
    const { queue } = await startWorker({ queue: "nothing" });
    const base = gitIn(repo, "rev-parse", "HEAD");
    const idle = await waitForJob(queue, await enqueue(queue, "nothing", { cwd: repo, prompt: "just look" }));
    expect(idle.status).toBe("finished");
    expect(worktreeOf(idle)).toMatchObject({ changed: false, filesChanged: 0, insertions: 0, deletions: 0, committedLeftovers: false,
      baseCommit: base, headCommit: base });

    const self = await waitForJob(queue, await enqueue(queue, "nothing", { cwd: repo, prompt: "fake:write=c.txt:x fake:commit" }));
    expect(worktreeOf(self)).toMatchObject({ changed: true, filesChanged: 1, committedLeftovers: false });
    expect(gitIn(repo, "log", "-1", "--format=%s", worktreeOf(self).branch)).toBe("fake agent: its own commit");
  });

  test("the setup command runs in the worktree before Claude, its output in the job's log", async () => {
    const repo = makeRepo({ "README.md": "hi\n", ".gitignore": "deps/\n" });
    const { queue } = await startWorker({ queue: "setup" });
    const job = await waitForJob(queue, await enqueue(queue, "setup", {
      cwd: repo, prompt: "fake:write=a.txt:1", setup: "echo installing-deps; mkdir -p deps && pwd > deps/where",
    }));
    expect(job.status).toBe("finished");
    const w = worktreeOf(job);
    expect(readFileSync(join(w.path, "deps/where"), "utf8").trim()).toBe(w.path);
    const log = stderrLogOf(job);
    expect(log).toContain("[claude-jobs] setup: echo installing-deps");
    expect(log).toContain("installing-deps");
    expect(log).toContain("[claude-jobs] setup succeeded");
    expect(changedFiles(repo, w.baseCommit, w.branch)).toEqual(["a.txt"]);
  });

  test("a failing setup fails the attempt with its output in the error and the log; Claude never starts", async () => {
    const repo = makeRepo();
    const { queue } = await startWorker({ queue: "setup-fail" });
    const job = await waitForJob(queue, await enqueue(queue, "setup-fail", {
      cwd: repo, prompt: "fake:write=never.txt:1", setup: "echo resolving; echo 'ERR! no such package left-pad' >&2; exit 3",
    }));
    expect(job.status).toBe("failed");
    expect(job.error).toContain("the worktree setup command");
    expect(job.error).toContain("exited with code 3");
    expect(job.error).toContain("ERR! no such package left-pad");
    const log = readFileSync(String(job.result?.stderrLog), "utf8");
    expect(log).toContain("resolving");
    expect(log).toContain("[claude-jobs] setup exited with code 3");
    const w = job.result?.worktree as { path: string };
    expect(existsSync(join(w.path, "never.txt"))).toBe(false);
    expect(readFileSync(String(job.result?.stdoutLog), "utf8")).toBe("");
  });

  test("setup runs once per worktree: again after it failed, not again for a follow-up in the same worktree", async () => {
    const repo = makeRepo();
    const flag = join(tempDir("wt-setup-"), "failed-once");
    const { queue } = await startWorker({ queue: "setup-once" });
    const setup = `echo setup-ran; test -f ${flag} || { touch ${flag}; echo flaky-network >&2; exit 1; }`;
    const id = await enqueue(queue, "setup-once", { cwd: repo, prompt: "fake:write=a.txt:1", setup }, 2);
    const first = await waitForJob(queue, id, (j) => j.status === "finished" || j.status === "failed" || (j.attempts === 1 && j.status === "queued"));
    if (first.status === "queued") await queue.sql`UPDATE claude_jobs SET run_at = now() WHERE id = ${id}`; // skip the backoff
    const root = await waitForJob(queue, id);
    expect(root.status).toBe("finished");
    expect(root.errors[0]!.message).toContain("flaky-network");
    expect(stderrLogOf(root)).toContain("[claude-jobs] setup succeeded");
    const next = await waitForJob(queue, await enqueue(queue, "setup-once", { cwd: repo, prompt: "hi", setup, worktree_of: id, follow_up_of: id }));
    expect(next.status).toBe("finished");
    expect(stderrLogOf(next)).toContain("copy and setup were done on this worktree before: not run again");
    expect(stderrLogOf(next)).not.toContain("setup-ran");
  });

  test("while it runs, the job's result already names its worktree and branch", async () => {
    const repo = makeRepo();
    const { queue } = await startWorker({ queue: "progress" });
    const id = await enqueue(queue, "progress", { cwd: repo, prompt: "fake:sleep=1500ms" });
    const running = await waitForJob(queue, id, (j) => j.status === "running" && j.result?.worktree !== undefined);
    expect(running.result?.worktree).toMatchObject({ rootJobId: id, branch: `claude-jobs/${id}`, headCommit: null, changed: null });
    expect((await waitForJob(queue, id)).status).toBe("finished");
  });

  test("files matching the copy globs come from the user's checkout and are never committed", async () => {
    const repo = makeRepo({ "README.md": "hi\n", ".gitignore": ".env\n" });
    writeFileSync(join(repo, ".env"), "SECRET=1\n");
    gitIn(repo, "config", "user.name", "Repo Owner"); // the repository's own identity is used when it has one
    gitIn(repo, "config", "user.email", "owner@example.com");
    writeFileSync(join(repo, "local.settings.json"), "{}\n"); // not ignored: copied, still not committed
    writeFileSync(join(repo, "other.json"), "{}\n");
    const { queue } = await startWorker({ queue: "copy" });
    const job = await waitForJob(queue, await enqueue(queue, "copy", {
      cwd: repo, prompt: "fake:write=x.txt:1", copy: [".env", "*.settings.json", "missing/*"],
    }));
    expect(job.error).toBeNull();
    const w = worktreeOf(job);
    expect(readFileSync(join(w.path, ".env"), "utf8")).toBe("SECRET=1\n");
    expect(existsSync(join(w.path, "local.settings.json"))).toBe(true);
    expect(existsSync(join(w.path, "other.json"))).toBe(false);
    expect(changedFiles(repo, w.baseCommit, w.branch)).toEqual(["x.txt"]);
    expect(stderrLogOf(job)).toContain("copied into the worktree: .env, local.settings.json");
    expect(gitIn(repo, "log", "-1", "--format=%an <%ae>", w.branch)).toBe("Repo Owner <owner@example.com>");
  });

  test("a repository's .claude-jobs.json gives setup and copy defaults; the payload's own fields win", async () => {
    const repo = makeRepo({ ".claude-jobs.json": JSON.stringify({ worktree: { setup: "echo from-repo-file", copy: ["seed.txt"] } }) });
    writeFileSync(join(repo, "seed.txt"), "seed\n");
    const { queue } = await startWorker({ queue: "defaults" });
    const id = await enqueue(queue, "defaults", { cwd: repo, prompt: "hi" });
    const stored = await queue.get(id);
    expect(stored.payload).toMatchObject({ setup: "echo from-repo-file", copy: ["seed.txt"] });
    const own = await queue.get(await enqueue(queue, "defaults", { cwd: repo, prompt: "hi", setup: "true" }));
    expect(own.payload.setup).toBe("true");
    const job = await waitForJob(queue, id);
    expect(stderrLogOf(job)).toContain("from-repo-file");
    expect(existsSync(join(worktreeOf(job).path, "seed.txt"))).toBe(true);
  });

  test("a retried job reuses its worktree and branch: the second attempt finds the first one's work", async () => {
    const repo = makeRepo();
    const once = join(tempDir("wt-once-"), "failed");
    const worktreeDir = tempDir("wt-root-");
    const handlerEnv = worktreeEnv({ FAKE_CLAUDE_FAIL_ONCE: once });
    const { queue } = await startWorker({ queue: "retry", worktreeDir, env: handlerEnv });
    const id = await enqueue(queue, "retry", { cwd: repo, prompt: "fake:write=a.txt:attempt" }, 2);
    await queue.sql`UPDATE claude_jobs SET run_at = now() WHERE id = ${id} AND status = 'queued'`;
    const job = await waitForJob(queue, id, (j) => j.status === "finished" || j.status === "failed" || (j.attempts === 1 && j.status === "queued"));
    if (job.status === "queued") await queue.sql`UPDATE claude_jobs SET run_at = now() WHERE id = ${id}`; // skip the backoff
    const done = await waitForJob(queue, id);
    expect(done.status).toBe("finished");
    expect(done.attempts).toBe(2);
    const w = worktreeOf(done);
    expect(w.path).toBe(worktreeFor(repo, id, worktreeDir).path);
    // The failed attempt's work was committed on the branch (work in progress), the second found it there.
    const subjects = gitIn(repo, "log", "--format=%s", `${w.baseCommit}..${w.branch}`).split("\n");
    expect(subjects).toEqual([`claude-jobs: work in progress of job ${id} (attempt 1 failed)`]);
    expect(done.errors[0]!.message).toContain("fake failure, once");
    expect(readFileSync(String(done.result?.stderrLog), "utf8")).toContain("(reused; base");
    expect(worktreePaths(repo)).toEqual([repo, w.path]);
    expect(staleEntries(repo)).toBe("");
  });

  test("a follow-up (worktree_of) lands on the root's branch and base, even after its worktree was removed", async () => {
    const repo = makeRepo();
    const { queue, worktreeDir } = await startWorker({ queue: "follow" });
    const base = gitIn(repo, "rev-parse", "HEAD");
    const root = await waitForJob(queue, await enqueue(queue, "follow", { cwd: repo, prompt: "fake:write=a.txt:1" }));
    const w = worktreeOf(root);
    // The user's checkout moves on; the follow-up still measures against the root's base.
    writeFileSync(join(repo, "later.txt"), "x\n");
    gitIn(repo, "add", "-A");
    gitIn(repo, "-c", "user.name=t", "-c", "user.email=t@l", "commit", "-qm", "later");
    expect(await removeWorktree(w, { deleteBranch: false })).toEqual({ removedPath: true, deletedBranch: false });
    const next = await waitForJob(queue, await enqueue(queue, "follow", { cwd: repo, prompt: "fake:write=b.txt:2", worktree_of: root.id }));
    expect(next.status).toBe("finished");
    expect(worktreeOf(next)).toMatchObject({ rootJobId: root.id, branch: w.branch, path: w.path, baseCommit: base, filesChanged: 2 });
    expect(changedFiles(repo, base, w.branch)).toEqual(["a.txt", "b.txt"]);
    expect(worktreeFor(repo, root.id, worktreeDir)).toEqual({ path: w.path, branch: w.branch });
  });

  test("a cwd in a subfolder of the repository runs Claude in the same subfolder of the worktree", async () => {
    const repo = makeRepo({ "pkg/app/main.ts": "1\n" });
    const { queue } = await startWorker({ queue: "subdir" });
    const job = await waitForJob(queue, await enqueue(queue, "subdir", { cwd: join(repo, "pkg/app"), prompt: "fake:write=new.ts:1" }));
    const w = worktreeOf(job);
    expect(w.repository).toBe(repo);
    expect(changedFiles(repo, w.baseCommit, w.branch)).toEqual(["pkg/app/new.ts"]);
    const init = JSON.parse(readFileSync(String(job.result?.stdoutLog), "utf8").split("\n")[0]!) as { cwd: string };
    expect(init.cwd).toBe(join(w.path, "pkg/app"));
  });

  test("a folder left half made at the job's worktree path (no worktree git knows) is replaced", async () => {
    const repo = makeRepo();
    const { queue, worktreeDir } = await startWorker({ queue: "half" });
    const id = await enqueue(queue, "half-parked", { cwd: repo, prompt: "fake:write=a.txt:1" });
    const { path } = worktreeFor(repo, id, worktreeDir);
    mkdirSync(path, { recursive: true });
    writeFileSync(join(path, "partial-checkout"), "x\n");
    await queue.sql`UPDATE claude_jobs SET queue = 'half' WHERE id = ${id}`;
    const job = await waitForJob(queue, id);
    expect(job.status).toBe("finished");
    expect(existsSync(join(path, "partial-checkout"))).toBe(false);
    expect(changedFiles(repo, worktreeOf(job).baseCommit, worktreeOf(job).branch)).toEqual(["a.txt"]);
    expect(worktreePaths(repo)).toEqual([repo, path]);
  });

  test("a worker's start prunes worktrees of jobs that ended longer ago than the TTL", async () => {
    const repo = makeRepo();
    const worktreeDir = tempDir("wt-root-");
    let now = new Date("2030-01-01T00:00:00Z");
    const { queue } = await startWorker({ queue: "prune-start", worktreeDir, now: () => now });
    const w = worktreeOf(await waitForJob(queue, await enqueue(queue, "prune-start", { cwd: repo, prompt: "fake:write=a.txt:1" })));
    await pool.stopAll(5000);
    now = new Date(now.getTime() + 8 * 86_400_000);
    await startWorker({ queue: "prune-start", worktreeDir, now: () => now });
    expect(existsSync(w.path)).toBe(false);
    expect(worktreePaths(repo)).toEqual([repo]);
    expect(gitIn(repo, "rev-parse", w.branch)).toBe(w.headCommit);
  });

  test("worktrees of jobs that ended longer ago than the TTL are removed before a new one is made; branches stay", async () => {
    const repo = makeRepo();
    let now = new Date("2030-01-01T00:00:00Z");
    const { queue } = await startWorker({ queue: "prune", worktreeTtlMs: 7 * 86_400_000, now: () => now });
    const old = worktreeOf(await waitForJob(queue, await enqueue(queue, "prune", { cwd: repo, prompt: "fake:write=a.txt:1" })));
    now = new Date(now.getTime() + 6 * 86_400_000); // not yet
    const recent = worktreeOf(await waitForJob(queue, await enqueue(queue, "prune", { cwd: repo, prompt: "hi" })));
    expect(existsSync(old.path)).toBe(true);
    now = new Date(now.getTime() + 1.5 * 86_400_000); // the first is 7.5 days old, the second 1.5
    const third = worktreeOf(await waitForJob(queue, await enqueue(queue, "prune", { cwd: repo, prompt: "hi" })));
    expect(existsSync(old.path)).toBe(false);
    expect(existsSync(recent.path)).toBe(true);
    expect(worktreePaths(repo).sort()).toEqual([repo, recent.path, third.path].sort());
    expect(staleEntries(repo)).toBe("");
    expect(gitIn(repo, "rev-parse", old.branch)).toBe(old.headCommit);
  });
});

describe("aborted runs", () => {
  test("a run stopped because its worker lost ownership leaves the agent's work uncommitted for the attempt that follows", async () => {
    const repo = makeRepo();
    const worktreeDir = tempDir("wt-root-");
    const handler = createClaudeHandler({ logDir: tempDir("wt-logs-"), killGraceMs: 500, env: worktreeEnv(), passEnv: FAKE_PASS_ENV, worktreeDir });
    const job = makeJob(validateClaudePayload({ cwd: repo, worktree: true, prompt: "fake:write=a.txt:1 fake:sleep=30s" }) as unknown as Record<string, unknown>);
    const { path, branch } = worktreeFor(repo, job.id, worktreeDir);
    const stop = new AbortController();
    const running = runJob(handler, job, stop.signal);
    await waitFor("the agent's edit", async () => existsSync(join(path, "a.txt")) || undefined);
    stop.abort({ kind: "lost_ownership", message: "this worker lost its database session" });
    const { error } = await running;
    expect(error?.message).toContain("lost its database session");
    expect(gitIn(path, "status", "--porcelain")).toBe("?? a.txt");
    expect(gitIn(repo, "rev-parse", branch)).toBe(gitIn(repo, "rev-parse", "HEAD"));
  });
});

describe("enqueue", () => {
  test("worktree for a cwd in no git repository is an InputError naming payload.worktree and payload.cwd; nothing is written", async () => {
    const queue = new Queue(db.sql);
    const plain = tempDir("wt-plain-");
    const before = (await queue.stats()).total;
    const error = await queue.enqueue({ payload: { prompt: "hi", cwd: plain, worktree: true } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).field).toBe("payload.worktree");
    expect((error as Error).message).toContain(`needs payload.cwd inside a git repository; ${plain} is not in one`);
    expect((await queue.stats()).total).toBe(before);
  });

  test("the base ref is resolved at enqueue; a bad one, a repository with no commit, and stray fields are refused", async () => {
    const queue = new Queue(db.sql);
    const repo = makeRepo();
    const first = gitIn(repo, "rev-parse", "HEAD");
    writeFileSync(join(repo, "b.txt"), "b\n");
    gitIn(repo, "add", "-A");
    gitIn(repo, "-c", "user.name=t", "-c", "user.email=t@l", "commit", "-qm", "second");
    gitIn(repo, "tag", "v1", first);
    const job = await queue.get(await queue.enqueue({ queue: "nobody", payload: { prompt: "hi", cwd: repo, worktree: true, base: "v1" } }));
    expect(job.payload).toMatchObject({ base: "v1", base_commit: first });
    const head = await queue.get(await queue.enqueue({ queue: "nobody", payload: { prompt: "hi", cwd: repo, worktree: true } }));
    expect(head.payload.base_commit).toBe(gitIn(repo, "rev-parse", "HEAD"));

    const refused = async (payload: Record<string, unknown>) => {
      const e = await queue.enqueue({ queue: "nobody", payload: { prompt: "hi", cwd: repo, ...payload } }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(InputError);
      return e as InputError;
    };
    expect((await refused({ worktree: true, base: "no-such-branch" })).field).toBe("payload.base");
    expect((await refused({ worktree: true, base: "--output=/tmp/x" })).field).toBe("payload.base");
    expect((await refused({ setup: "make" })).message).toContain("payload.setup: needs payload.worktree: true");
    expect((await refused({ worktree: true, copy: ["../outside"] })).field).toBe("payload.copy");
    expect((await refused({ worktree: true, worktree_of: "abc" })).field).toBe("payload.worktree_of");
    const empty = tempDir("wt-empty-");
    gitIn(empty, "init", "-q");
    const e = await queue.enqueue({ queue: "nobody", payload: { prompt: "hi", cwd: empty, worktree: true } }).catch((x: unknown) => x);
    expect((e as Error).message).toContain("has no commit yet");
  });

  test("worktree jobs share one key per repository with the handler's limit; other jobs keep one per cwd", async () => {
    const repo = makeRepo({ "sub/x": "1\n" });
    const handler = createClaudeHandler({ logDir: tempDir("wt-logs-"), worktreeLimit: 5, worktreeDir: tempDir("wt-root-") });
    const queue = new Queue(db.sql, { handlers: { claude: handler } });
    const a = await queue.get(await queue.enqueue({ queue: "nobody", payload: { prompt: "hi", cwd: repo, worktree: true } }));
    const b = await queue.get(await queue.enqueue({ queue: "nobody", payload: { prompt: "hi", cwd: join(repo, "sub"), worktree: true } }));
    const plain = await queue.get(await queue.enqueue({ queue: "nobody", payload: { prompt: "hi", cwd: repo } }));
    const explicit = await queue.get(await queue.enqueue({ queue: "nobody", concurrencyLimit: 2, payload: { prompt: "hi", cwd: repo, worktree: true } }));
    expect(a.concurrencyKey).toBe(`claude:repo:${join(repo, ".git")}`);
    expect(b.concurrencyKey).toBe(a.concurrencyKey);
    expect([a.concurrencyLimit, b.concurrencyLimit, explicit.concurrencyLimit]).toEqual([5, 5, 2]);
    expect(plain.concurrencyKey).toBe(`claude:${repo}`);
    expect(plain.concurrencyLimit).toBe(1);
  });
});

describe("removeWorktree", () => {
  test("removes the folder, the entry and (when asked) the branch; again is no error; never the repository", async () => {
    const repo = makeRepo();
    const id = crypto.randomUUID();
    const info = { repository: repo, ...worktreeFor(repo, id, tempDir("wt-root-")) };
    gitIn(repo, "worktree", "add", "-q", "-b", info.branch, info.path);
    expect(await removeWorktree(info, { deleteBranch: true })).toEqual({ removedPath: true, deletedBranch: true });
    expect(existsSync(info.path)).toBe(false);
    expect(worktreePaths(repo)).toEqual([repo]);
    expect(gitIn(repo, "branch", "--list", info.branch)).toBe("");
    expect(await removeWorktree(info, { deleteBranch: true })).toEqual({ removedPath: false, deletedBranch: false });
    await expect(removeWorktree({ ...info, path: repo }, { deleteBranch: false })).rejects.toThrow("holds the repository");
    expect(existsSync(join(repo, "README.md"))).toBe(true);
  });
});
