// Retention and worktrees: a deleted Claude job's worktree folder is removed
// from this host (git's entry too) and its branch stays; a worktree a live
// follow-up still uses stays; a result naming a folder that is no worktree
// removes nothing; a dry run only counts.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { tempDir } from "../helpers/cli.ts";
import { cleanup, DEFAULT_RETENTION } from "../../src/worker/retention.ts";
import { insertEnded } from "./helpers.ts";
import { insertJob } from "../web/helpers.ts";

let db: TestDatabase;
let repo: string;
let base: string;

const git = (cwd: string, ...args: string[]) => {
  const r = Bun.spawnSync(["git", ...args], { cwd, env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", HOME: cwd } });
  if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr.toString()}`);
  return r.stdout.toString().trim();
};

beforeAll(async () => {
  db = await createTestDatabase();
  repo = tempDir("cj-retention-repo-");
  git(repo, "init", "-q", "-b", "main");
  writeFileSync(join(repo, "a.txt"), "a\n");
  git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "add", ".");
  git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init");
  base = git(repo, "rev-parse", "HEAD");
});
afterAll(async () => {
  await db.drop();
});

/** A worktree of `repo` for a root job, as the Claude handler makes one, and its job ended long ago. */
async function worktreeJob(rootJobId?: string): Promise<{ id: string; path: string; branch: string }> {
  const [id] = await insertEnded(db, { n: 1, status: "finished", endedAgo: "20 days", kind: "claude" });
  const root = rootJobId ?? id!;
  const path = join(tempDir("cj-retention-wt-"), root);
  const branch = `claude-jobs/${root}`;
  if (!existsSync(path)) git(repo, "worktree", "add", "-q", "-b", branch, path, base);
  await db.sql`UPDATE claude_jobs SET result = ${db.sql.json({ worktree: { rootJobId: root, repository: repo, path, branch, baseCommit: base, headCommit: base } })} WHERE id = ${id!}`;
  return { id: id!, path, branch };
}

const run = (dryRun = false) => cleanup((q) => q(db.sql), { policy: DEFAULT_RETENTION, now: new Date(), dryRun });

describe("worktrees of deleted jobs", () => {
  test("the folder goes, the branch stays; one a live follow-up uses stays; a dry run only counts", async () => {
    const done = await worktreeJob();
    const shared = await worktreeJob();
    // A queued follow-up of the second job's worktree: its folder is still in use.
    await insertJob(db, { status: "queued", kind: "claude", payload: { prompt: "more", cwd: repo, worktree: true, worktree_of: shared.id } });
    // A custom kind's result naming a real folder that is no worktree: nothing is removed.
    const [custom] = await insertEnded(db, { n: 1, status: "finished", endedAgo: "20 days", kind: "custom" });
    const plain = tempDir("cj-retention-plain-");
    mkdirSync(join(plain, "keep"));
    await db.sql`UPDATE claude_jobs SET result = ${db.sql.json({ worktree: { rootJobId: custom, repository: repo, path: plain, branch: "x", baseCommit: base } })} WHERE id = ${custom!}`;

    expect(await run(true)).toMatchObject({ total: 3, worktreesRemoved: 1 });
    expect(existsSync(done.path)).toBe(true);

    const report = await run();
    expect(report).toMatchObject({ total: 3, worktreesRemoved: 1, problems: [] });
    expect(existsSync(done.path)).toBe(false);
    expect(git(repo, "worktree", "list")).not.toContain(done.path);
    expect(git(repo, "branch", "--list", done.branch)).toContain(done.branch);
    expect(existsSync(shared.path)).toBe(true);
    expect(existsSync(join(plain, "keep"))).toBe(true);
  });
});
