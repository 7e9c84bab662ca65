// Fixtures for the review side of worktree jobs: real git repositories made
// in a temp folder, a job's worktree made the way the engine makes it (the
// same folder and branch, from worktreeFor), an agent's edits committed on
// its branch, and job rows with the result.worktree record the handler
// writes, inserted directly.

import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { worktreeFor } from "../../src/git/worktree.ts";
import type { WorktreeRecord } from "../../src/git/diff.ts";
import type { TestDatabase } from "../helpers/db.ts";
import { tempDir } from "../helpers/cli.ts";

const GIT_ENV = {
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("GIT_"))),
  GIT_AUTHOR_NAME: "Test", GIT_AUTHOR_EMAIL: "test@example.com", GIT_COMMITTER_NAME: "Test", GIT_COMMITTER_EMAIL: "test@example.com",
  GIT_CONFIG_NOSYSTEM: "1", HOME: tempDir("cj-ux-githome-"),
} as Record<string, string>;

/** Runs git in `cwd`; its stdout, or throws with its stderr. */
export function git(cwd: string, ...args: string[]): string {
  const r = spawnSync("git", args, { cwd, env: GIT_ENV, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`git ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

/** A repository with one commit holding `files`; its top level (realpath) and that commit. */
export function makeRepo(files: Record<string, string | Uint8Array> = { "README.md": "hello\n" }): { repo: string; base: string } {
  const repo = join(tempDir("cj-ux-repo-"), "project");
  mkdirSync(repo);
  git(repo, "init", "-q", "-b", "main");
  writeFiles(repo, files);
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "--allow-empty", "-m", "base");
  return { repo, base: git(repo, "rev-parse", "HEAD").trim() };
}

export function writeFiles(dir: string, files: Record<string, string | Uint8Array>): void {
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, content);
  }
}

/** A folder for worktrees, outside every repository (as the worker's --worktree-dir). */
export const WORKTREE_ROOT = tempDir("cj-ux-worktrees-");

/**
 * The worktree of job `rootJobId`, where the engine puts it, on its branch
 * from `base`; `edit` changes files in it (the agent), and what it left is
 * committed. The record the handler would write.
 */
export function agentWorktree(repo: string, base: string, rootJobId: string, edit: (dir: string) => void): WorktreeRecord {
  const { path, branch } = worktreeFor(repo, rootJobId, WORKTREE_ROOT);
  mkdirSync(join(path, ".."), { recursive: true });
  git(repo, "worktree", "add", "-q", "-b", branch, path, base);
  edit(path);
  git(path, "add", "-A");
  const changed = git(path, "status", "--porcelain") !== "";
  if (changed) git(path, "commit", "-q", "-m", "agent work");
  return {
    rootJobId, repository: repo, path, branch, baseCommit: base, headCommit: git(path, "rev-parse", "HEAD").trim(),
    changed, committedLeftovers: changed,
  };
}

export interface WorktreeJob {
  id?: string;
  status?: "waiting" | "queued" | "running" | "finished" | "failed" | "cancelled";
  payload?: Record<string, unknown>;
  result?: Record<string, unknown> | null;
  queue?: string;
}

/** Inserts a Claude job row in the given state with the given id, payload and result. */
export async function insertClaudeJob(db: TestDatabase, j: WorktreeJob): Promise<string> {
  const id = j.id ?? Bun.randomUUIDv7();
  const status = j.status ?? "finished";
  const final = ["finished", "failed", "cancelled"].includes(status);
  const [row] = await db.sql`
    INSERT INTO claude_jobs (id, kind, queue, priority, status, payload, run_at, attempts, max_attempts, worker_id, result, started_at, finished_at)
    VALUES (${id}, 'claude', ${j.queue ?? "default"}, 0, ${status}, ${db.sql.json((j.payload ?? { prompt: "hello", cwd: "/tmp" }) as never)},
            now(), ${status === "queued" || status === "waiting" ? 0 : 1}, 3, ${status === "running" ? 999 : null},
            ${j.result ? db.sql.json(j.result as never) : null},
            ${status === "queued" || status === "waiting" ? null : new Date(Date.now() - 5000)}, ${final ? new Date() : null})
    RETURNING id`;
  return row!.id as string;
}

/**
 * A finished worktree job whose agent ran `edit`: the row (id = the root
 * job id), its worktree and branch, and the record on its result.
 */
export async function finishedWorktreeJob(
  db: TestDatabase, repo: string, base: string, edit: (dir: string) => void, extra: { sessionId?: string; status?: WorktreeJob["status"] } = {},
): Promise<{ id: string; record: WorktreeRecord }> {
  const id = Bun.randomUUIDv7();
  const record = agentWorktree(repo, base, id, edit);
  await insertClaudeJob(db, {
    id, status: extra.status ?? "finished",
    payload: { prompt: "change things", cwd: repo, worktree: true, base_commit: base, model: "sonnet", permission_mode: "acceptEdits" },
    result: { sessionId: extra.sessionId ?? crypto.randomUUID(), result: "done", worktree: { ...record, filesChanged: 1, insertions: 1, deletions: 0 } },
  });
  return { id, record };
}
