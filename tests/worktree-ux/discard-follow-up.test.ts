// Discard and follow-up against a real database and real repositories.
// Discard: the worktree folder, its entry in `git worktree list` and the
// branch are all gone, a second discard removes nothing and says so, a
// running job (or a job of its chain still to run) is refused and nothing
// is touched. Follow-up: the new job's payload (same cwd, same worktree,
// the parent's session and options) and its dependency on a parent that
// has not ended; what cannot be followed up is refused, naming why.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { Queue } from "../../src/queue/client.ts";
import { discardWorktree } from "../../src/review/discard.ts";
import { enqueueFollowUp } from "../../src/review/follow-up.ts";
import { jobChain } from "../../src/review/chain.ts";
import { ConflictError, InputError, NotFoundError } from "../../src/errors.ts";
import { PAYLOAD_KEYS } from "../../src/handlers/claude/payload.ts";
import { finishedWorktreeJob, git, insertClaudeJob, makeRepo, writeFiles } from "./helpers.ts";

let db: TestDatabase;
let queue: Queue;
beforeAll(async () => {
  db = await createTestDatabase();
  queue = new Queue(db.sql);
});
afterAll(async () => {
  await db.drop();
});

const listed = (repo: string, path: string) => git(repo, "worktree", "list", "--porcelain").split("\n").includes(`worktree ${path}`);
const hasBranch = (repo: string, branch: string) => git(repo, "branch", "--list", branch).trim() !== "";

describe("discard", () => {
  test("removes the worktree folder, its entry in git worktree list and the branch; a second discard removes nothing", async () => {
    const { repo, base } = makeRepo();
    const { id, record } = await finishedWorktreeJob(db, repo, base, (dir) => writeFiles(dir, { "a.txt": "a\n" }));
    expect(existsSync(record.path) && listed(repo, record.path) && hasBranch(repo, record.branch)).toBe(true);

    const first = await discardWorktree(db.sql, await queue.get(id));
    expect(first).toEqual({ jobId: id, rootJobId: id, repository: repo, path: record.path, branch: record.branch, removedPath: true, deletedBranch: true });
    expect(existsSync(record.path)).toBe(false);
    expect(listed(repo, record.path)).toBe(false);
    expect(hasBranch(repo, record.branch)).toBe(false);
    // The user's own checkout is untouched.
    expect(git(repo, "rev-parse", "HEAD").trim()).toBe(base);
    expect(existsSync(`${repo}/README.md`)).toBe(true);

    const again = await discardWorktree(db.sql, await queue.get(id));
    expect(again).toMatchObject({ removedPath: false, deletedBranch: false });
  });

  test("a pruned folder: the branch still goes", async () => {
    const { repo, base } = makeRepo();
    const { id, record } = await finishedWorktreeJob(db, repo, base, (dir) => writeFiles(dir, { "a.txt": "a\n" }));
    git(repo, "worktree", "remove", "--force", record.path);
    expect(await discardWorktree(db.sql, await queue.get(id))).toMatchObject({ removedPath: false, deletedBranch: true });
    expect(hasBranch(repo, record.branch)).toBe(false);
  });

  test("a running job is refused, and nothing is removed", async () => {
    const { repo, base } = makeRepo();
    const { id, record } = await finishedWorktreeJob(db, repo, base, (dir) => writeFiles(dir, { "a.txt": "a\n" }), { status: "running" });
    const refused = await discardWorktree(db.sql, await queue.get(id)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConflictError);
    expect((refused as Error).message).toContain("is running");
    expect((refused as Error).message).toContain(`claude-jobs cancel ${id}`);
    expect(existsSync(record.path) && listed(repo, record.path) && hasBranch(repo, record.branch)).toBe(true);
  });

  test("a follow-up still to run on the branch is refused by name; once it ended, discarding it removes the root's worktree", async () => {
    const { repo, base } = makeRepo();
    const { id: root, record } = await finishedWorktreeJob(db, repo, base, (dir) => writeFiles(dir, { "a.txt": "a\n" }));
    const followUp = await insertClaudeJob(db, { status: "queued", payload: { prompt: "more", cwd: repo, worktree: true, worktree_of: root, follow_up_of: root } });
    const refused = await discardWorktree(db.sql, await queue.get(root)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConflictError);
    expect((refused as Error).message).toContain(`job ${followUp}, on the same branch, is queued`);
    expect(hasBranch(repo, record.branch)).toBe(true);

    await db.sql`UPDATE claude_jobs SET status = 'cancelled', finished_at = now() WHERE id = ${followUp}`;
    const r = await discardWorktree(db.sql, await queue.get(followUp));
    expect(r).toMatchObject({ jobId: followUp, rootJobId: root, path: record.path, branch: record.branch, removedPath: true, deletedBranch: true });
  });

  test("a job that did not use a worktree has nothing to discard", async () => {
    const id = await insertClaudeJob(db, { payload: { prompt: "p", cwd: "/tmp" }, result: { sessionId: crypto.randomUUID() } });
    const e = await discardWorktree(db.sql, await queue.get(id)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConflictError);
    expect((e as Error).message).toContain("did not run in a worktree");
  });

  test("a failed job that recorded no worktree: the engine's folder and branch of it are found and removed", async () => {
    const { repo, base } = makeRepo();
    const id = Bun.randomUUIDv7();
    const { worktreeFor, defaultWorktreeDir } = await import("../../src/git/worktree.ts");
    const { path, branch } = worktreeFor(repo, id);
    expect(path.startsWith(defaultWorktreeDir())).toBe(true);
    git(repo, "worktree", "add", "-q", "-b", branch, path, base);
    await insertClaudeJob(db, { id, status: "failed", payload: { prompt: "p", cwd: repo, worktree: true, base_commit: base } });
    expect(await discardWorktree(db.sql, await queue.get(id))).toMatchObject({ removedPath: true, deletedBranch: true, path, branch });
    expect(listed(repo, path)).toBe(false);
  });
});

describe("follow-up", () => {
  test("of a finished job: resumes its session in its worktree, with its options, queued at once, and shows in the chain", async () => {
    const { repo, base } = makeRepo();
    const session = crypto.randomUUID();
    const { id: root } = await finishedWorktreeJob(db, repo, base, (dir) => writeFiles(dir, { "a.txt": "a\n" }), { sessionId: session });
    const newId = await enqueueFollowUp(queue, root, "now add tests");
    const job = await queue.get(newId);
    expect(job.kind).toBe("claude");
    expect(job.status).toBe("queued");
    expect(job.payload).toMatchObject({
      prompt: "now add tests", cwd: repo, worktree: true, worktree_of: root, resume: session, model: "sonnet", permission_mode: "acceptEdits",
    });
    if ((PAYLOAD_KEYS as readonly string[]).includes("follow_up_of")) expect(job.payload.follow_up_of).toBe(root);
    const [deps] = await db.sql`SELECT count(*)::int AS n FROM claude_job_deps WHERE job_id = ${newId}`;
    expect(deps!.n).toBe(0);

    // A follow-up of the follow-up keeps the root's worktree; the chain lists all three in order.
    await db.sql`UPDATE claude_jobs SET status = 'finished', finished_at = now(), result = ${db.sql.json({ sessionId: crypto.randomUUID() } as never)} WHERE id = ${newId}`;
    const third = await enqueueFollowUp(queue, newId, "and docs");
    expect((await queue.get(third)).payload.worktree_of).toBe(root);
    const chain = await jobChain(db.sql, await queue.get(newId));
    expect(chain!.rootId).toBe(root);
    expect(chain!.jobs.map((j) => j.id)).toEqual([root, newId, third]);
    if ((PAYLOAD_KEYS as readonly string[]).includes("follow_up_of")) {
      expect(chain!.parentId).toBe(root);
      expect(chain!.followUpIds).toEqual([third]);
    }
  });

  test("of a running job that has its session: waits for it (a dependency), then is queued when it finishes", async () => {
    const { repo, base } = makeRepo();
    const { id: parent } = await finishedWorktreeJob(db, repo, base, (dir) => writeFiles(dir, { "a.txt": "a\n" }), { status: "running" });
    const newId = await enqueueFollowUp(queue, parent, "then this");
    expect((await queue.get(newId)).status).toBe("waiting");
    const deps = await db.sql`SELECT parent_id FROM claude_job_deps WHERE job_id = ${newId}`;
    expect(deps.map((r) => r.parent_id)).toEqual([parent]);
    const chain = await jobChain(db.sql, await queue.get(newId));
    expect(chain!.parentId).toBe(parent);
    await db.sql`UPDATE claude_jobs SET status = 'finished', finished_at = now(), worker_id = NULL, concurrency_slot = NULL WHERE id = ${parent}`;
    expect((await queue.get(newId)).status).toBe("queued");
  });

  test("of a job still queued (no session yet): waits for it, and takes its session when it finishes", async () => {
    const { repo, base } = makeRepo();
    const parent = await insertClaudeJob(db, { status: "queued", payload: { prompt: "p", cwd: repo, worktree: true, base_commit: base } });
    const newId = await enqueueFollowUp(queue, parent, "after you");
    expect((await queue.get(newId)).status).toBe("waiting");
    expect((await queue.get(newId)).payload.resume).toBe(parent);
    const session = crypto.randomUUID();
    await db.sql`UPDATE claude_jobs SET status = 'finished', started_at = now(), finished_at = now(), result = ${db.sql.json({ sessionId: session } as never)} WHERE id = ${parent}`;
    const released = await queue.get(newId);
    expect(released.status).toBe("queued");
    expect(released.payload.resume).toBe(session);
  });

  test("what cannot be followed up is refused, naming the field, and nothing is enqueued", async () => {
    const { repo, base } = makeRepo();
    const { id: done, record } = await finishedWorktreeJob(db, repo, base, (dir) => writeFiles(dir, { "a.txt": "a\n" }));
    const plain = await insertClaudeJob(db, { payload: { prompt: "p", cwd: "/tmp" }, result: { sessionId: crypto.randomUUID() } });
    const failedEarly = await insertClaudeJob(db, { status: "failed", payload: { prompt: "p", cwd: repo, worktree: true, base_commit: base } });
    const [other] = await db.sql`INSERT INTO claude_jobs (id, kind, payload) VALUES (${Bun.randomUUIDv7()}, 'email', '{}') RETURNING id`;
    const [{ n: before }] = await db.sql`SELECT count(*)::int AS n FROM claude_jobs` as unknown as [{ n: number }];

    const cases: [string, () => Promise<string>, typeof InputError | typeof ConflictError | typeof NotFoundError, string][] = [
      ["empty prompt", () => enqueueFollowUp(queue, done, "  "), InputError, "prompt: must be a non-empty string"],
      ["no prompt", () => enqueueFollowUp(queue, done, undefined), InputError, "prompt:"],
      ["bad id", () => enqueueFollowUp(queue, "nope", "x"), InputError, "id: must be a job id"],
      ["no such job", () => enqueueFollowUp(queue, "0192f1c4-7b1e-7cc0-8d2a-5e1f0a9b3c4d", "x"), NotFoundError, "no job with id"],
      ["not a Claude job", () => enqueueFollowUp(queue, other!.id as string, "x"), InputError, "only Claude jobs have follow-ups"],
      ["no worktree", () => enqueueFollowUp(queue, plain, "x"), InputError, "did not run in a worktree"],
      ["ended with no session", () => enqueueFollowUp(queue, failedEarly, "x"), InputError, "payload.resume: job"],
    ];
    for (const [what, attempt, type, message] of cases) {
      const e = await attempt().catch((x: unknown) => x);
      expect({ what, type: (e as Error).constructor.name }).toEqual({ what, type: type.name });
      expect((e as Error).message).toContain(message);
    }
    git(repo, "worktree", "remove", "--force", record.path);
    git(repo, "branch", "-D", record.branch);
    const gone = await enqueueFollowUp(queue, done, "x").catch((x: unknown) => x);
    expect(gone).toBeInstanceOf(ConflictError);
    expect((gone as Error).message).toContain("was discarded");
    const [{ n: after }] = await db.sql`SELECT count(*)::int AS n FROM claude_jobs` as unknown as [{ n: number }];
    expect(after).toBe(before);
  });
});
