// What /proc says about this host's processes: who carries a marker in its
// environment, whether a pid still names the process it named before, and
// which pid namespace a pid belongs to. The worker's rescuer uses these to
// decide that a dead worker on this host, and every process it started, are
// certainly gone; the process runner uses them to find a job's leftovers.
//
// Linux only. Elsewhere (macOS, the BSDs without linprocfs) there is no
// /proc to read: `canScanProcesses()` is false, `processesWithEnv` finds
// nothing, start times are unknown and `pidNamespaceId` names a namespace
// no other process shares, so a caller that must be sure can tell that it
// cannot be, instead of being told that nothing is alive.

import { randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";

/** Whether this host's processes can be listed with their environment and start time (Linux /proc). */
export function canScanProcesses(): boolean {
  return process.platform === "linux" && existsSync("/proc/self/stat");
}

/**
 * The pids of live (not zombie) processes whose environment holds exactly
 * `name=value`. Processes whose environment cannot be read (another user's,
 * when not root) are skipped. The environment is the one the process was
 * started with: a process that exec'd with a cleaned environment (env -i,
 * sudo) no longer carries the marker.
 */
export function processesWithEnv(name: string, value: string): number[] {
  if (!canScanProcesses()) return [];
  const entry = Buffer.from(`${name}=${value}`);
  const found: number[] = [];
  for (const pid of pids()) {
    let environ: Buffer;
    try {
      environ = readFileSync(`/proc/${pid}/environ`);
    } catch {
      continue; // EACCES (not ours), or it exited while we looked
    }
    // A zombie's environment reads as empty, so it never matches; the state
    // check below covers one that died between the two reads.
    if (holdsEntry(environ, entry) && processState(pid) !== null) found.push(pid);
  }
  return found;
}

/** Whether the NUL-separated `environ` holds `entry` as one whole item. */
function holdsEntry(environ: Buffer, entry: Buffer): boolean {
  for (let at = environ.indexOf(entry); at !== -1; at = environ.indexOf(entry, at + 1)) {
    const end = at + entry.length;
    if ((at === 0 || environ[at - 1] === 0) && (end === environ.length || environ[end] === 0)) return true;
  }
  return false;
}

/**
 * The process's start time (field 22 of /proc/PID/stat, in clock ticks since
 * boot), or null when it is gone or unknown. With the pid it names one process
 * for the life of a boot: a pid reused by a later process has another start time.
 */
export function processStartTime(pid: number): string | null {
  return stat(pid)?.(STARTTIME) ?? null;
}

/**
 * Whether the process that had `startTime` (from processStartTime) still runs
 * as `pid`; a zombie is dead. With a null start time (unknown, or not
 * Linux) only the pid is checked.
 */
export function isProcessAlive(pid: number, startTime: string | null): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (canScanProcesses()) {
    const field = stat(pid);
    if (field === null || isDead(field(STATE))) return false;
    return startTime === null || field(STARTTIME) === startTime;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (e: unknown) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

let namespaceId: string | undefined;

/**
 * Names the space in which a pid means one process: this boot of this host
 * (boot id) and this pid namespace (the inode of /proc/self/ns/pid; each
 * container usually has its own). Two processes with the same id can check
 * each other's pids; with different ids a pid says nothing. Where it cannot
 * be known, the id is unique to this process, so it matches no one.
 */
export function pidNamespaceId(): string {
  if (namespaceId !== undefined) return namespaceId;
  try {
    const bootId = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    const ns = statSync("/proc/self/ns/pid").ino;
    if (bootId === "" || !ns) throw new Error("no boot id or pid namespace");
    namespaceId = `${bootId}:${ns}`;
  } catch {
    namespaceId = `unknown:${randomUUID()}`;
  }
  return namespaceId;
}

/** Whether any process of the group is alive (running or stopped, not a zombie). */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (e: unknown) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  // kill(-pgid, 0) also succeeds for zombies. Under an init that never reaps
  // orphans (a container's PID 1 often does not) they stay forever, and we
  // would wait the whole grace period for processes that are already dead.
  if (!canScanProcesses()) return true;
  for (const pid of pids()) {
    const field = stat(pid);
    if (field !== null && Number(field(PGRP)) === pgid && !isDead(field(STATE))) return true;
  }
  return false;
}

/** The process's group id, or null when it is gone. */
export function processGroupOf(pid: number): number | null {
  const pgrp = stat(pid)?.(PGRP);
  return pgrp === undefined ? null : Number(pgrp);
}

/** The process's state letter (R, S, D, T, ...), or null when it is gone or a zombie. */
function processState(pid: number): string | null {
  const state = stat(pid)?.(STATE);
  return state === undefined || isDead(state) ? null : state;
}

/** The short command name (/proc/PID/comm), for messages; null when unknown. */
export function processName(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trimEnd();
  } catch {
    return null;
  }
}

const isDead = (state: string | undefined) => state === "Z" || state === "X";

// Field numbers of /proc/PID/stat, as proc(5) counts them.
const STATE = 3;
const PGRP = 5;
const STARTTIME = 22;

/**
 * /proc/PID/stat by field number, or null when the process is gone.
 * "pid (comm) state ppid pgrp ..."; comm may hold spaces and parens, so the
 * fields after it are counted from the LAST ')'.
 */
function stat(pid: number): ((field: number) => string | undefined) | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  const fromState = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return (field) => fromState[field - STATE];
}

function pids(): number[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  return entries.filter((e) => /^\d+$/.test(e)).map(Number);
}
