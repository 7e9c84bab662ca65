// The state of a worktree while its agent works: everything in the folder
// (uncommitted changes and new files, less what .gitignore ignores) as a git
// tree, so a running job's changes can be diffed against its base like a
// branch. Built in an index file of our own (GIT_INDEX_FILE), never the
// worktree's: the agent's index, staging and HEAD are not touched, and no
// lock of theirs is taken. Only objects are written, which git shares and
// collects; no ref points at them.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gitText } from "./read.ts";

/**
 * The tree of everything in the worktree folder now, or null when it cannot
 * be read (gone, not a worktree). `exclude` are the payload's copy globs:
 * files copied in from the user's checkout (.env) are never part of the
 * job's changes, as they are never committed.
 */
export async function worktreeSnapshot(path: string, exclude: string[] = []): Promise<string | null> {
  const dir = mkdtempSync(join(tmpdir(), "claude-jobs-snapshot-"));
  const env = { GIT_INDEX_FILE: join(dir, "index") };
  try {
    // Start from HEAD's entries, so unchanged files are not hashed again, then take in the folder as it is.
    if ((await gitText(path, ["read-tree", "HEAD"], 1024, env)) === null) return null;
    if ((await gitText(path, ["add", "-A", "--ignore-errors", "--", ".", ...exclude.map((g) => `:(exclude,glob)${g}`)], 64 * 1024, env)) === null) return null;
    const tree = await gitText(path, ["write-tree"], 1024, env);
    return tree !== null && /^[0-9a-f]{40,64}$/.test(tree) ? tree : null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
