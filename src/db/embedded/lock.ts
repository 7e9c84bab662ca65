// The start lock: one process at a time initializes, starts or stops the
// embedded server of a data folder. Bun has no flock, so the lock is a file
// holding "<pid> <epoch ms>", put in place with link(2), which fails if it
// exists (like O_EXCL, but the file is never seen empty). A lock whose pid is
// dead (a SIGKILLed process) or that is older than STALE_MS is broken.
//
// The lock is for order and speed, not for safety: if two processes ever both
// held it (a stale lock broken twice at once), PostgreSQL's own postmaster.pid
// still lets only one server open the cluster, and initdb's atomic rename
// (cluster.ts) lets only one cluster be made.
import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { EmbeddedPostgresError, folderError } from "./errors.ts";

const STALE_MS = 5 * 60_000;

export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e: unknown) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Writes the content aside, then links it into place: the lock never exists empty. */
function tryCreate(path: string): boolean {
  const tmp = `${path}.${process.pid}`;
  try {
    writeFileSync(tmp, `${process.pid} ${Date.now()}\n`, { mode: 0o600 });
    linkSync(tmp, path);
    return true;
  } catch (e: unknown) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw folderError("create the lock file", path, e);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Breaks the lock if its holder is gone; true when it did. */
function breakIfStale(path: string): boolean {
  let content: string;
  try {
    content = readFileSync(path, "utf8");
  } catch {
    return true; // released meanwhile
  }
  const [pid, at] = content.trim().split(" ").map(Number);
  const stale = !pidAlive(pid!) || !(Date.now() - at! < STALE_MS);
  if (!stale) return false;
  // Rename first, so that of two processes breaking it, only one removes it.
  const aside = `${path}.stale-${process.pid}`;
  try {
    renameSync(path, aside);
    rmSync(aside, { force: true });
  } catch {
    /* someone else broke it */
  }
  return true;
}

export type LockWait<T> = { timeoutMs: number; whileWaiting: () => Promise<T | undefined> };

/**
 * Takes the lock, or returns early with what `whileWaiting` finds (say, a
 * server another process has just started). Returns a release function.
 */
export async function acquire<T>(path: string, wait: LockWait<T>): Promise<{ release: () => void } | { found: T }> {
  const deadline = Date.now() + wait.timeoutMs;
  for (;;) {
    if (tryCreate(path)) return { release: () => rmSync(path, { force: true }) };
    if (breakIfStale(path)) continue;
    const found = await wait.whileWaiting();
    if (found !== undefined) return { found };
    if (Date.now() > deadline) {
      throw new EmbeddedPostgresError(
        `another claude-jobs process has been starting the server for over ${wait.timeoutMs / 1000} s ` +
          `(lock ${path}): check that process, or delete the lock file if it is gone`,
      );
    }
    await Bun.sleep(50);
  }
}
