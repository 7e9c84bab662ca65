// Running one command in its own process group with stdin closed and its
// stdout and stderr written straight to files by the kernel (the worker never
// handles those bytes: 50 runs printing megabytes cost it nothing); stopping
// the WHOLE group (SIGTERM, then SIGKILL after a grace period) on abort or
// timeout. Resolves only after the command has exited. Knows nothing about
// Claude.
//
// Why files and not pipes: measured with 50 fake CLIs printing 10 MB each on
// 2 cores, piping stdout through the worker into a write stream cost the
// worker 5.5 s of CPU, 186 MB RSS and event-loop stalls of ~5 s (long enough
// to miss its lock probe); handing the child the file's descriptor cost
// 0.15 s, 37 MB and no stall from output. Readers follow the file instead.

import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync } from "node:fs";

export interface GroupRunParams {
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string | undefined>;
  stdoutPath: string;
  stderrPath: string;
  signal: AbortSignal;
  timeoutMs?: number;
  killGraceMs: number;
  /** Called once the process is started (to follow its output file, say). */
  onSpawn?: () => void;
}

export interface GroupRunOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the command could not be started (ENOENT, EACCES, ...). */
  spawnError?: NodeJS.ErrnoException;
  stoppedBy?: "abort" | "timeout";
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runInProcessGroup(p: GroupRunParams): Promise<GroupRunOutcome> {
  const stdoutFd = openSync(p.stdoutPath, "a");
  const stderrFd = openSync(p.stderrPath, "a");
  let child: ChildProcess;
  try {
    // detached: the child calls setsid(), so it leads a new process group
    // (pgid = pid) that we can signal as a whole, grandchildren included.
    child = spawn(p.command, p.args, { cwd: p.cwd, env: p.env, detached: true, stdio: ["ignore", stdoutFd, stderrFd] });
  } catch (e: unknown) {
    return { exitCode: null, signal: null, spawnError: e as NodeJS.ErrnoException };
  } finally {
    closeSync(stdoutFd); // the child has its own copies
    closeSync(stderrFd);
  }
  const exited = new Promise<GroupRunOutcome>((resolve) => {
    child.once("exit", (exitCode, signal) => resolve({ exitCode, signal }));
    child.once("error", (e) => resolve({ exitCode: null, signal: null, spawnError: e as NodeJS.ErrnoException }));
  });

  const pid = child.pid;
  if (pid !== undefined) p.onSpawn?.();
  let stoppedBy: GroupRunOutcome["stoppedBy"];
  let stopping: Promise<void> | undefined;
  const stop = (why: "abort" | "timeout") => {
    if (pid === undefined || stopping) return;
    stoppedBy = why;
    stopping = stopGroup(pid, p.killGraceMs);
  };
  const onAbort = () => stop("abort");
  p.signal.addEventListener("abort", onAbort, { once: true });
  if (p.signal.aborted) onAbort();
  // setTimeout fires at once for delays over 2^31-1 ms, so a "30d" timeout is
  // held to ~24.8 days rather than stopping the run immediately.
  const timer = p.timeoutMs !== undefined ? setTimeout(() => stop("timeout"), Math.min(p.timeoutMs, 2 ** 31 - 1)) : undefined;

  const outcome = await exited;
  clearTimeout(timer);
  p.signal.removeEventListener("abort", onAbort);
  // Processes the CLI left behind (a background shell, a dev server) would
  // outlive the job and keep its directory busy: stop them too.
  if (outcome.spawnError === undefined && pid !== undefined) await (stopping ?? stopGroup(pid, p.killGraceMs));
  return { ...outcome, stoppedBy };
}

/** SIGTERM to the group, then SIGKILL if any member is still alive after `graceMs`. */
export async function stopGroup(pgid: number, graceMs: number): Promise<void> {
  if (!groupAlive(pgid)) return;
  try {
    process.kill(-pgid, "SIGTERM");
  } catch {
    return; // ESRCH: gone meanwhile
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await sleep(Math.min(50, graceMs));
    if (!groupAlive(pgid)) return;
  }
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {
    // gone meanwhile
  }
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
  if (process.platform !== "linux") return true;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid pgrp ..."; comm may contain spaces and parens.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(pgrp) === pgid && state !== "Z" && state !== "X") return true;
  }
  return false;
}
