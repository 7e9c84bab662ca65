// The process guard: a tiny shell process that outlives this one and, when
// this one dies however it dies (SIGKILL, the OOM killer, process.exit with
// jobs running), stops the process groups this one started and every process
// carrying this process's owner token. Invariant 3: a job's processes never
// outlive their worker by more than a few seconds.
//
// How it learns of the death: its stdin is a pipe (a socket pair, in Bun)
// from this process and nothing else holds the write end (Bun opens it
// close-on-exec, so neither the guard's other children nor the job's
// processes inherit it; tests/handlers/guard.test.ts checks). When this
// process dies the kernel closes it and the guard reads EOF. No polling, no
// pid that could be reused.
//
// Why a shell script and not a Bun process: it costs ~1 MB instead of ~30,
// starts in a millisecond, and is inside the executable as a string. Why
// detached (its own session): a Ctrl-C in the worker's terminal, or a kill
// of the worker's process group, must not take the guard with it; it also
// ignores INT and HUP. SIGTERM still ends it (the parent then starts
// another): a guard that stopped live jobs on SIGTERM would turn a stray
// `kill` into lost work.
//
// Where it degrades: without /proc (macOS) the guard still stops the
// registered groups, but cannot find processes by their environment (grep
// fails quietly), so a process that left its group is not caught; on
// Windows there is no guard at all.

import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import SCRIPT from "./guard.sh" with { type: "text" };

/** Every process a job starts carries OWNER_ENV=<the worker process's owner token>. */
export const OWNER_ENV = "CLAUDE_JOBS_OWNER";
/** ... and JOB_ENV=<the job's id>, to find an earlier attempt's leftovers. */
export const JOB_ENV = "CLAUDE_JOBS_JOB";
/** Between the guard's SIGTERM and SIGKILL unless told otherwise: small, the worker is already dead. */
export const DEFAULT_GUARD_GRACE_MS = 3000;

/**
 * This process's owner token: random, one per process. The worker records it
 * so that a rescuer on the same host can check that no process of a dead
 * worker is left (processesWithEnv(OWNER_ENV, token) is empty).
 */
export const OWNER_TOKEN = randomBytes(16).toString("hex");

export interface ProcessGuard {
  /** The token this process's job processes carry in OWNER_ENV. */
  readonly token: string;
  /** The guard process's pid now (another one after a restart); undefined while there is none. */
  readonly pid: number | undefined;
  /** A process group this process started: stopped by the guard if this process dies. */
  register(pgid: number): void;
  /** The group has ended (all of it): the guard forgets it. */
  unregister(pgid: number): void;
  /**
   * Closes the pipe, as this process's exit would: the guard stops what is
   * still registered or carries the token, then exits. The next
   * processGuard() starts a new one.
   */
  close(): void;
}

export interface GuardOptions {
  /** SIGTERM to SIGKILL once this process is dead. Default DEFAULT_GUARD_GRACE_MS. */
  graceMs?: number;
}

let current: Guard | undefined;

/**
 * The process-wide guard, started on first use. Options apply when it starts
 * (the first call, or the first after close()).
 */
export function processGuard(options: GuardOptions = {}): ProcessGuard {
  if (current === undefined || current.closed) current = new Guard(options.graceMs ?? DEFAULT_GUARD_GRACE_MS);
  return current;
}

/** A guard that died unexpectedly is restarted after this long, doubling up to the cap, reset by a long life. */
const RESTART_MS = { first: 50, cap: 5000, healthyAfter: 10_000 };

class Guard implements ProcessGuard {
  readonly token = OWNER_TOKEN;
  closed = false;
  private child: ChildProcess | undefined;
  private readonly groups = new Set<number>();
  private restartDelay = RESTART_MS.first;
  private restartTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly graceMs: number) {
    this.start();
  }

  get pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  register(pgid: number): void {
    this.groups.add(pgid);
    this.send(`+${pgid}`);
  }

  unregister(pgid: number): void {
    if (this.groups.delete(pgid)) this.send(`-${pgid}`);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.restartTimer);
    this.child?.stdin?.end();
  }

  private start(): void {
    if (process.platform === "win32") return; // no sh, no process groups: nothing to guard with
    const startedAt = Date.now();
    const ticks = String(Math.max(1, Math.ceil(this.graceMs / 100)));
    let child: ChildProcess;
    try {
      child = spawn("/bin/sh", ["-c", SCRIPT, "claude-jobs-guard", ticks, this.token], {
        detached: true,
        stdio: ["pipe", "ignore", "ignore"],
        // Its own small environment: no API keys, no inherited owner token, a
        // PATH that finds grep and sleep whatever the worker's PATH is.
        env: { PATH: `/usr/bin:/bin:/usr/sbin:/sbin${process.env.PATH ? `:${process.env.PATH}` : ""}`, LC_ALL: "C" },
      });
    } catch {
      this.scheduleRestart(startedAt);
      return;
    }
    // It must not keep this process alive: this process's end is its signal.
    child.unref();
    child.stdin?.on("error", () => {}); // EPIPE once it has died; the exit handler restarts it
    const ended = () => {
      if (this.child === child) this.child = undefined;
      this.scheduleRestart(startedAt);
    };
    child.once("error", ended); // could not start (or be signalled): try again later
    child.once("exit", ended);
    this.child = child;
    if (child.pid === undefined) {
      this.child = undefined;
      this.scheduleRestart(startedAt);
      return;
    }
    for (const pgid of this.groups) this.send(`+${pgid}`);
  }

  private scheduleRestart(startedAt: number): void {
    if (this.closed || this.restartTimer !== undefined) return;
    if (Date.now() - startedAt > RESTART_MS.healthyAfter) this.restartDelay = RESTART_MS.first;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.closed && this.child === undefined) this.start();
    }, this.restartDelay);
    this.restartTimer.unref();
    this.restartDelay = Math.min(this.restartDelay * 2, RESTART_MS.cap);
  }

  private send(line: string): void {
    if (this.child?.stdin?.writable) this.child.stdin.write(`${line}\n`);
  }
}
