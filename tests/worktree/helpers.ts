// Real git repositories for the worktree tests, made with no one's git
// config: git in this process and in every child reads no system config and
// a global config that is an empty file of ours, and children get a private
// HOME (tests/handlers/claude-helpers.ts fakeEnv, tests/helpers/cli.ts cliEnv).

import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fakeEnv, tempDir } from "../handlers/claude-helpers.ts";

export { tempDir };

const GLOBAL_CONFIG = join(tempDir("git-global-"), "gitconfig");
writeFileSync(GLOBAL_CONFIG, "");
/** What every git here runs with: nobody's config (this process's own git calls too: validation at enqueue). */
export const GIT_ISOLATION = { GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: GLOBAL_CONFIG };
Object.assign(process.env, GIT_ISOLATION);

/** The fake CLI's environment, git isolated too. */
export function worktreeEnv(extra: Record<string, string> = {}): Record<string, string> {
  return fakeEnv({ ...GIT_ISOLATION, ...extra });
}

/** Runs git in `dir` with nobody's config; its stdout, trimmed. Throws with git's stderr. */
export function gitIn(dir: string, ...args: string[]): string {
  const r = spawnSync("git", args, { cwd: dir, encoding: "utf8", env: { PATH: process.env.PATH, HOME: dir, ...GIT_ISOLATION } });
  if (r.status !== 0) throw new Error(`git ${args.join(" ")} in ${dir}: ${r.stderr}`);
  return r.stdout.trim();
}

/** A repository with one commit holding `files` (and no identity configured: claude-jobs must bring its own). */
export function makeRepo(files: Record<string, string> = { "README.md": "hello\n" }, prefix = "wt-repo-"): string {
  const dir = tempDir(prefix);
  gitIn(dir, "init", "--quiet", "--initial-branch=main");
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  gitIn(dir, "add", "-A");
  gitIn(dir, "-c", "user.name=test", "-c", "user.email=test@localhost", "commit", "--quiet", "-m", "initial");
  return dir;
}

/** `git worktree list --porcelain` paths. */
export function worktreePaths(repo: string): string[] {
  return gitIn(repo, "worktree", "list", "--porcelain").split("\n").filter((l) => l.startsWith("worktree ")).map((l) => l.slice(9));
}

/** What git would prune: a stale entry (its folder gone) shows in a dry run (on stderr). */
export function staleEntries(repo: string): string {
  const r = spawnSync("git", ["worktree", "prune", "--dry-run", "--verbose"], { cwd: repo, encoding: "utf8", env: { PATH: process.env.PATH, HOME: repo, ...GIT_ISOLATION } });
  return `${r.stdout}${r.stderr}`.trim();
}

/** Files changed on a branch against a commit. */
export function changedFiles(repo: string, base: string, branch: string): string[] {
  const out = gitIn(repo, "diff", "--name-only", base, branch);
  return out === "" ? [] : out.split("\n").sort();
}
