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
//
// Invariant 3 (a job's processes die with their worker): every child carries
// the process guard's owner token in its environment and its group is
// registered with the guard (src/proc/guard.ts), which stops them if this
// process dies. With a marker, the child also carries the job's id, and an
// attempt first stops what an earlier attempt of the same job left running
// on this host (a dead worker's processes, still being stopped by its guard),
// and, when it ends, what its own CLI started outside its group (setsid).

import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, closeSync, openSync } from "node:fs";
import { DEFAULT_GUARD_GRACE_MS, JOB_ENV, OWNER_ENV, processGuard } from "../../proc/guard.ts";
import { groupAlive, isProcessAlive, processesWithEnv, processGroupOf, processName, processStartTime } from "../../proc/scan.ts";

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
  /**
   * The job this run is an attempt of. Its processes carry JOB_ENV=jobId;
   * processes of an earlier attempt still alive on this host are stopped
   * (noted in the stderr log) before this one starts.
   */
  marker?: { jobId: string };
}

export interface GroupRunOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the command could not be started (ENOENT, EACCES, ...). */
  spawnError?: NodeJS.ErrnoException;
  stoppedBy?: "abort" | "timeout";
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs the command to its end. Throws only when it must not start: processes
 * of an earlier attempt of the same job survived SIGKILL.
 */
export async function runInProcessGroup(p: GroupRunParams): Promise<GroupRunOutcome> {
  // Started (once per process) before the first child: from the child's first
  // instant, this process's death is noticed.
  const guard = processGuard({ graceMs: Math.min(p.killGraceMs, DEFAULT_GUARD_GRACE_MS) });
  const env: Record<string, string | undefined> = { ...p.env, [OWNER_ENV]: guard.token };
  if (p.marker) {
    env[JOB_ENV] = p.marker.jobId;
    await stopLeftovers({ ...leftovers(p), when: "before this attempt started", what: "from an earlier attempt, alive on this host" });
    if (p.signal.aborted) return { exitCode: null, signal: null, stoppedBy: "abort" };
  }

  const stdoutFd = openSync(p.stdoutPath, "a");
  const stderrFd = openSync(p.stderrPath, "a");
  let child: ChildProcess;
  try {
    // detached: the child calls setsid(), so it leads a new process group
    // (pgid = pid) that we can signal as a whole, grandchildren included.
    child = spawn(p.command, p.args, { cwd: p.cwd, env, detached: true, stdio: ["ignore", stdoutFd, stderrFd] });
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
  if (pid !== undefined) {
    guard.register(pid);
    p.onSpawn?.();
  }
  let stoppedBy: GroupRunOutcome["stoppedBy"];
  let stopping: Promise<boolean> | undefined;
  // The whole tree within one grace period: the group, and (with a marker)
  // what left the group (setsid) but kept the job's marker.
  // Resolves to whether anything of the tree was still alive.
  const stopTree = (pgid: number, when: string) => Promise.all([
    stopGroup(pgid, p.killGraceMs),
    p.marker ? stopLeftovers({ ...leftovers(p), when, what: "outside its process group", skipGroup: pgid }).catch(() => true) : false,
  ]).then(([group, outside]) => group || outside);
  const stop = (why: "abort" | "timeout") => {
    if (pid === undefined || stopping) return;
    stoppedBy = why;
    stopping = stopTree(pid, why === "abort" ? "when the run was stopped" : "when the run timed out");
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
  if (outcome.spawnError === undefined && pid !== undefined) {
    // Processes the CLI left behind (a background shell, a dev server) would
    // outlive the job and keep its directory busy: stop them too.
    const busy = await (stopping ?? stopTree(pid, "after the run ended"));
    // One last look, for what the dying CLI started after that sweep's last
    // look; when the sweep found nothing alive, nothing is left to start any
    // (and a normal run costs one /proc scan less).
    if (p.marker && busy) await stopLeftovers({ ...leftovers(p), when: "after the run ended", what: "outside its process group" }).catch(() => {});
  }
  if (pid !== undefined) guard.unregister(pid);
  return { ...outcome, stoppedBy };
}

const leftovers = (p: GroupRunParams) => ({ jobId: p.marker!.jobId, graceMs: p.killGraceMs, logPath: p.stderrPath });

/** How long processes may take to vanish after SIGKILL before we give up on them. */
const AFTER_KILL_MS = 10_000;

interface Leftovers {
  jobId: string;
  graceMs: number;
  /** Where the note goes: the attempt's stderr log. */
  logPath: string;
  /** For the note: when this happens, and what the processes are. */
  when: string;
  what: string;
  /** Members of this process group are someone else's to stop. */
  skipGroup?: number;
}

/**
 * Stops every live process on this host that carries JOB_ENV=jobId (except
 * this one): SIGTERM, SIGKILL after `graceMs`, then waits until none is left.
 * Processes that appear meanwhile (a dying CLI's last children) are treated
 * the same way. Notes what it did in the stderr log. Throws if some survive
 * SIGKILL (a process stuck in the kernel): starting anyway would put two runs
 * in one directory.
 */
/** Stops the job's marked processes; whether there were any. */
async function stopLeftovers({ jobId, graceMs, logPath, when, what, skipGroup }: Leftovers): Promise<boolean> {
  const find = () => processesWithEnv(JOB_ENV, jobId).filter((pid) => pid !== process.pid && (skipGroup === undefined || processGroupOf(pid) !== skipGroup));
  let found = find();
  if (found.length === 0) return false;
  const note = (text: string) => {
    try {
      appendFileSync(logPath, `[claude-jobs] ${text}\n`);
    } catch {
      // the note is for people; the stop goes on without it
    }
  };
  const seen = new Map<number, { start: string | null; name: string | null }>();
  const describe = (pids: number[]) => pids.map((pid) => `${pid} (${seen.get(pid)?.name ?? "?"})`).join(", ");
  const t0 = Date.now();
  const signalled = new Map<number, NodeJS.Signals>();
  const send = (pid: number, sig: NodeJS.Signals) => {
    const known = seen.get(pid)!;
    if (signalled.get(pid) === sig || !isProcessAlive(pid, known.start)) return;
    signalled.set(pid, sig);
    try {
      process.kill(pid, sig);
    } catch {
      // gone meanwhile, or not ours to signal (then we wait, and fail below)
    }
  };
  for (let first = true; found.length > 0; first = false) {
    for (const pid of found) if (!seen.has(pid)) seen.set(pid, { start: processStartTime(pid), name: processName(pid) });
    if (first) note(`${when}: ${found.length} process(es) of job ${jobId} ${what}: ${describe(found)}; stopping them`);
    const elapsed = Date.now() - t0;
    if (elapsed > graceMs + AFTER_KILL_MS) {
      const message = `processes of job ${jobId} survived SIGKILL for ${AFTER_KILL_MS / 1000}s: ${describe(found)}`;
      note(message);
      throw new Error(`${message}; not starting another run of the job while they live`);
    }
    for (const pid of found) send(pid, elapsed < graceMs ? "SIGTERM" : "SIGKILL");
    await sleep(50);
    found = find();
  }
  const killed = [...signalled.values()].includes("SIGKILL");
  note(`${when}: they are gone after ${Date.now() - t0} ms${killed ? " (SIGKILL needed)" : ""}`);
  return true;
}

/** SIGTERM to the group, then SIGKILL if any member is still alive after `graceMs`; whether any member was alive. */
export async function stopGroup(pgid: number, graceMs: number): Promise<boolean> {
  if (!groupAlive(pgid)) return false;
  try {
    process.kill(-pgid, "SIGTERM");
  } catch {
    return false; // ESRCH: gone meanwhile
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await sleep(Math.min(50, graceMs));
    if (!groupAlive(pgid)) return true;
  }
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {
    // gone meanwhile
  }
  return true;
}
