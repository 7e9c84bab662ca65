// The harness: a run folder, a private PostgreSQL per scenario, worker
// processes under a supervisor that restarts them as systemd would, the
// faults we inject (with the time each was done), and cleanup that ends
// everything we started, also on failure, Ctrl-C or SIGTERM.
//
// Every process we start carries CHAOS_RUN=<run folder>/<scenario> in its
// environment (PostgreSQL's too; children inherit it, the fake Claude's
// `sleep` as well), so cleanup can find exactly our processes, a scenario's
// or the whole run's, and end them by pid. A detached watchdog does the same
// if the harness itself is SIGKILLed.
//
//   <run>/runtime/                 PostgreSQL binaries (hard links into node_modules)
//   <run>/bin/claude               the fake CLI (tests/fixtures/fake-claude) under this Bun
//   <run>/<scenario>/pg/           the cluster (deleted at the end)
//   <run>/<scenario>/exec/<pid>.jsonl   executions, one file per worker process
//   <run>/<scenario>/procs/<slot>-<gen>.out|.err   each worker process's stdout (events) and stderr

import { spawn as spawnProcess, type ChildProcess } from "node:child_process";
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync,
  rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createSql, type Sql } from "../../src/db/connect.ts";
import { migrate } from "../../src/db/migrate.ts";
import { now, PrivatePg } from "./pg.ts";
import { type ProcInfo, runProcesses, tcpPorts } from "./proc.ts";

export const REPO = resolve(import.meta.dir, "../..");
const WORKER_SCRIPT = join(import.meta.dir, "worker.ts");
const FAKE_CLAUDE = join(REPO, "tests/fixtures/fake-claude");
/** systemd's Restart=always with RestartSec=1. */
const RESTART_DELAY_MS = 1000;

export function log(line: string): void {
  process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 23)}] ${line}\n`);
}

export class Run {
  private readonly scenarios = new Set<Scenario>();
  private watchdog: ChildProcess | null = null;
  private cleaning: Promise<void> | null = null;

  private constructor(readonly dir: string) {}

  static create(): Run {
    // mkdtemp makes it 0700; 0711 lets the PostgreSQL user pass through to its cluster.
    const dir = mkdtempSync("/tmp/claude-jobs-chaos-");
    chmodSync(dir, 0o711);
    const run = new Run(dir);
    writeFileSync(join(dir, "owner.pid"), `${process.pid}\n`);
    mkdirSync(join(dir, "bin"), { recursive: true, mode: 0o755 });
    // The fake's own `#!/usr/bin/env bun` would need Bun on the child's PATH.
    writeFileSync(join(dir, "bin", "claude"), `#!/bin/sh\nexec '${process.execPath}' '${FAKE_CLAUDE}' "$@"\n`, { mode: 0o755 });
    run.startWatchdog();
    return run;
  }

  async scenario(name: string, options: { startPg?: boolean } = {}): Promise<Scenario> {
    const s = await Scenario.open(this, name, options);
    this.scenarios.add(s);
    return s;
  }

  async closeScenario(s: Scenario): Promise<void> {
    await s.close();
    this.scenarios.delete(s);
  }

  /** Closes scenarios still open (one whose code threw): the next one must start alone. */
  async closeOpen(): Promise<void> {
    for (const s of this.scenarios) await this.closeScenario(s).catch((e) => log(`closing ${s.name}: ${(e as Error).message}`));
  }

  /** Ends every scenario, then every process still carrying our marker. Idempotent. */
  cleanup(): Promise<void> {
    this.cleaning ??= (async () => {
      for (const s of this.scenarios) await s.close().catch((e) => log(`cleanup of ${s.name}: ${(e as Error).message}`));
      this.scenarios.clear();
      this.killLeftovers();
      this.watchdog?.kill("SIGKILL");
      rmSync(join(this.dir, "runtime"), { recursive: true, force: true });
    })();
    return this.cleaning;
  }

  /** SIGKILL, by pid, every process of this run that is still alive. */
  killLeftovers(): number {
    const left = runProcesses(this.dir, { under: true });
    for (const p of left) {
      try {
        process.kill(p.pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
    return left.length;
  }

  /**
   * A detached shell that outlives us only to clean up if we are SIGKILLed:
   * it waits for our pid to go (or turn zombie), stops our clusters and
   * kills what carries our marker. It does not carry the marker itself.
   */
  private startWatchdog(): void {
    const script = `
      R="$1"; H="$2"
      while [ -e /proc/$H ] && ! grep -q ') Z' /proc/$H/stat 2>/dev/null; do sleep 1; done
      for f in "$R"/*/pg/postmaster.pid; do [ -f "$f" ] && kill -QUIT "$(head -1 "$f")" 2>/dev/null; done
      sleep 2
      for e in /proc/[0-9]*/environ; do
        if tr '\\0' '\\n' < "$e" 2>/dev/null | grep -qE "^CHAOS_RUN=$R(/|$)"; then p=\${e#/proc/}; kill -9 "\${p%/environ}" 2>/dev/null; fi
      done
      rm -rf "$R"/*/pg "$R"/*/claude/logs "$R"/runtime`;
    this.watchdog = spawnProcess("/bin/sh", ["-c", script, "chaos-watchdog", this.dir, String(process.pid)], {
      detached: true, stdio: "ignore", env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    });
    this.watchdog.unref();
  }
}

export interface WorkerProc {
  slot: string;
  gen: number;
  /** application_name of all its connections: how we find its backends. */
  app: string;
  pid: number;
  child: ChildProcess;
  startedAt: number;
  exitedAt?: number;
  exitCode?: number | null;
  exitSignal?: string | null;
  /** Signals we sent, with when: an exit after none of them (or a non-zero exit after SIGTERM) is a crash. */
  ourSignals: { sig: NodeJS.Signals; t: number }[];
  exited: Promise<void>;
  outFile: string;
  errFile: string;
}

export interface Crash {
  slot: string;
  pid: number;
  code: number | null | undefined;
  signal: string | null | undefined;
  t: number;
  /** The last lines of its stdout (events) and stderr, for the report. */
  why: string;
}

export interface WorkerEnv {
  concurrency?: number;
  pool?: number;
  pollMs?: number;
  rescueMs?: number;
  probeMs?: number;
  stopTimeoutMs?: number;
  /** Register the `claude` kind on the fake CLI. */
  claude?: boolean;
}

export class Slot {
  current: WorkerProc | null = null;
  stopped = false;
  restartTimer: ReturnType<typeof setTimeout> | null = null;
  constructor(readonly name: string) {}
}

export class Scenario {
  readonly procs: WorkerProc[] = [];
  readonly crashes: Crash[] = [];
  readonly slots: Slot[] = [];
  private readonly generations = new Map<string, number>();
  private closed = false;

  private constructor(readonly run: Run, readonly name: string, readonly dir: string, readonly pg: PrivatePg, readonly sql: Sql) {}

  static async open(run: Run, name: string, options: { startPg?: boolean }): Promise<Scenario> {
    const dir = join(run.dir, name);
    for (const sub of ["exec", "procs", "claude/logs"]) mkdirSync(join(dir, sub), { recursive: true });
    const pg = await PrivatePg.create(dir, run.dir, { CHAOS_RUN: dir });
    // The harness's own pool: progress, faults, the verdict. max 4: a crash cuts them all at once.
    const sql = createSql(pg.url, { max: 4, applicationName: "chaos-harness", connectTimeout: 5 });
    const s = new Scenario(run, name, dir, pg, sql);
    if (options.startPg !== false) await s.startAndMigrate();
    return s;
  }

  async startAndMigrate(): Promise<void> {
    await this.pg.start();
    await migrate(this.sql);
  }

  /** What every process of this scenario carries, so cleanup finds it; see runProcesses. */
  get env(): Record<string, string> {
    return { CHAOS_RUN: this.dir };
  }

  get execDir(): string {
    return join(this.dir, "exec");
  }

  /** Starts one worker process (not supervised). */
  spawnWorker(slot: string, w: WorkerEnv = {}): WorkerProc {
    const gen = (this.generations.get(slot) ?? 0) + 1;
    this.generations.set(slot, gen);
    const app = `chaos-${this.name}-${slot}-${gen}`;
    const outFile = join(this.dir, "procs", `${slot}-${gen}.out`);
    const errFile = join(this.dir, "procs", `${slot}-${gen}.err`);
    const outFd = openSync(outFile, "a");
    const errFd = openSync(errFile, "a");
    const env: Record<string, string> = { ...cleanEnv(), ...this.env, DATABASE_URL: this.pg.url, CHAOS_APP: app,
      CHAOS_EXEC_DIR: this.execDir, CHAOS_CONCURRENCY: String(w.concurrency ?? 10), CHAOS_POOL: String(w.pool ?? 4),
      CHAOS_STOP_TIMEOUT_MS: String(w.stopTimeoutMs ?? 30_000) };
    if (w.pollMs) env.CHAOS_POLL_MS = String(w.pollMs);
    if (w.rescueMs) env.CHAOS_RESCUE_MS = String(w.rescueMs);
    if (w.probeMs) env.CHAOS_PROBE_MS = String(w.probeMs);
    if (w.claude) {
      const claudeDir = join(this.dir, "claude");
      mkdirSync(join(claudeDir, "bin"), { recursive: true });
      if (!existsSync(join(claudeDir, "bin", "claude"))) {
        writeFileSync(join(claudeDir, "bin", "claude"), readFileSync(join(this.run.dir, "bin", "claude")), { mode: 0o755 });
      }
      env.CHAOS_CLAUDE_DIR = claudeDir;
    }
    // detached: its own process group, so a Ctrl-C in the terminal reaches only
    // the harness, which then stops everything in order.
    const child = spawnProcess(process.execPath, [WORKER_SCRIPT], { cwd: REPO, env, detached: true, stdio: ["ignore", outFd, errFd] });
    closeSync(outFd);
    closeSync(errFd);
    const proc: WorkerProc = { slot, gen, app, pid: child.pid!, child, startedAt: now(), ourSignals: [], outFile, errFile,
      exited: new Promise((resolve) => child.once("exit", (code, signal) => {
        proc.exitedAt = now();
        proc.exitCode = code;
        proc.exitSignal = signal;
        if (this.isCrash(proc)) {
          const why = crashReason(proc);
          this.crashes.push({ slot, pid: proc.pid, code, signal, t: proc.exitedAt, why });
          if (this.crashes.length <= 3) log(`${this.name}: worker ${app} (pid ${proc.pid}) exited by itself: code ${code} signal ${signal}: ${why}`);
          else if (this.crashes.length === 4) log(`${this.name}: more workers exit by themselves (counted, not logged)`);
        }
        resolve();
      })) };
    this.procs.push(proc);
    return proc;
  }

  private isCrash(p: WorkerProc): boolean {
    if (p.ourSignals.some((s) => s.sig === "SIGKILL")) return false;
    if (p.ourSignals.some((s) => s.sig === "SIGTERM")) return p.exitCode !== 0; // asked to stop: 0 is the only clean answer
    return true;
  }

  /** A worker under a supervisor: whenever it exits it is started again, as systemd would. */
  supervise(slotName: string, w: WorkerEnv = {}): Slot {
    const slot = new Slot(slotName);
    this.slots.push(slot);
    const launch = () => {
      slot.restartTimer = null;
      if (slot.stopped || this.closed) return;
      const p = this.spawnWorker(slotName, w);
      slot.current = p;
      void p.exited.then(() => {
        if (!slot.stopped && !this.closed) slot.restartTimer = setTimeout(launch, RESTART_DELAY_MS);
      });
    };
    launch();
    return slot;
  }

  /** Sends a signal and records when (the kill clock of the verdict). */
  signal(p: WorkerProc, sig: NodeJS.Signals): boolean {
    if (p.exitedAt !== undefined) return false;
    p.ourSignals.push({ sig, t: now() });
    try {
      process.kill(p.pid, sig);
      return true;
    } catch {
      return false;
    }
  }

  /** Live processes of this scenario's supervised slots that said they are ready. */
  readyWorkers(): WorkerProc[] {
    return this.slots.map((s) => s.current).filter((p): p is WorkerProc => !!p && p.exitedAt === undefined && isReady(p));
  }

  /**
   * Processes of this run that are neither PostgreSQL nor a live worker
   * process: what a job left behind. Taken after the workers are stopped.
   */
  strays(): ProcInfo[] {
    const workers = new Set(this.procs.filter((p) => p.exitedAt === undefined).map((p) => p.pid));
    return runProcesses(this.dir).filter((p) =>
      !workers.has(p.pid) && !p.cmdline.startsWith("postgres") && !p.cmdline.includes(`${this.run.dir}/runtime/`));
  }

  /** strays(), given up to `settleMs` to exit (a helper of a worker that just exited may still be on its way out). */
  async settledStrays(settleMs = 5000): Promise<ProcInfo[]> {
    let left = this.strays();
    for (const deadline = Date.now() + settleMs; left.length > 0 && Date.now() < deadline; left = this.strays()) await Bun.sleep(100);
    return left;
  }

  /**
   * Terminates every backend of one worker process (its pool, lock session
   * and LISTEN): those whose client port is one of its sockets, and those
   * named after it (application_name, or that name and a suffix: a library
   * may name its lock session "<name> lock"). Returns the names it cut.
   */
  async terminateBackends(p: WorkerProc): Promise<string[]> {
    const ports = [...tcpPorts(p.pid)];
    const rows = await this.sql`SELECT pid, application_name AS app, pg_terminate_backend(pid) AS ok FROM pg_stat_activity
      WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'
        AND (client_port = ANY(${ports}::int[]) OR application_name = ${p.app} OR starts_with(application_name, ${`${p.app} `}))`;
    return rows.filter((r) => r.ok).map((r) => r.app as string);
  }

  /** Stops supervised workers: SIGTERM, then SIGKILL for any still there after `graceMs`. */
  async stopWorkers(graceMs = 45_000): Promise<{ sigkilled: number }> {
    for (const s of this.slots) {
      s.stopped = true;
      if (s.restartTimer) clearTimeout(s.restartTimer);
    }
    const live = this.procs.filter((p) => p.exitedAt === undefined);
    for (const p of live) this.signal(p, "SIGTERM");
    const all = Promise.all(live.map((p) => p.exited));
    const timedOut = await Promise.race([all.then(() => false), Bun.sleep(graceMs).then(() => true)]);
    let sigkilled = 0;
    if (timedOut) {
      for (const p of live) if (p.exitedAt === undefined && this.signal(p, "SIGKILL")) sigkilled++;
      await all;
    }
    return { sigkilled };
  }

  /** Everything down: workers (SIGKILL: the verdict is already taken), the harness pool, PostgreSQL, the cluster. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.slots) {
      s.stopped = true;
      if (s.restartTimer) clearTimeout(s.restartTimer);
    }
    const live = this.procs.filter((p) => p.exitedAt === undefined);
    for (const p of live) this.signal(p, "SIGKILL");
    await Promise.race([Promise.all(live.map((p) => p.exited)), Bun.sleep(5000)]);
    await this.sql.end({ timeout: 1 }).catch(() => {});
    await this.pg.crash().catch((e) => log(`${this.name}: stopping PostgreSQL: ${(e as Error).message}`));
    // What a job left behind must not leak into the next scenario's figures.
    for (const p of runProcesses(this.dir)) {
      try {
        process.kill(p.pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
    rmSync(this.pg.cluster, { recursive: true, force: true, maxRetries: 3 });
    rmSync(join(this.dir, "claude", "logs"), { recursive: true, force: true });
  }
}

/** Our environment without the PG* variables and URLs that could point a child at another server. */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || /^(PG|DATABASE_URL|TEST_DATABASE_URL|CLAUDE_JOBS_|CHAOS_)/.test(k)) continue;
    env[k] = v;
  }
  return env;
}

export function readLines<T = Record<string, unknown>>(file: string): T[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  const out: T[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      /* a line cut by SIGKILL cannot happen with one write(2) per line, but stdout may carry other text */
    }
  }
  return out;
}

export type WorkerEvent = { t: number; ev: string; pid: number; args?: unknown[]; [k: string]: unknown };

export function events(p: WorkerProc): WorkerEvent[] {
  return readLines<WorkerEvent>(p.outFile);
}

export function isReady(p: WorkerProc): boolean {
  try {
    return readFileSync(p.outFile, "utf8").includes(`"ev":"ready"`);
  } catch {
    return false;
  }
}

/** Waits until the process says it is ready; false if it exits or the time runs out first. */
export async function waitReady(p: WorkerProc, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (isReady(p)) return true;
    if (p.exitedAt !== undefined) return false;
    await Bun.sleep(50);
  }
  return false;
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await Bun.sleep(stepMs);
  }
}

/** Why a process ended by itself, in one line: its last crash or start failure, else its last stderr line. */
function crashReason(p: WorkerProc): string {
  const evs = events(p);
  const last = [...evs].reverse().find((e) => e.ev.startsWith("crash:") || e.ev === "start-failed");
  if (last) return `${last.ev}: ${(last.error as { message?: string } | undefined)?.message ?? JSON.stringify(last.error)}`.slice(0, 300);
  const err = tail(p.errFile, 1);
  if (err) return `stderr: ${err.slice(0, 300)}`;
  return `last event: ${evs.at(-1)?.ev ?? "none"}`;
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n").slice(-1500);
  } catch {
    return "";
  }
}

/** Folders of earlier runs kept for their logs; older ones are deleted. */
const KEEP_RUNS = 5;

/**
 * Run folders of earlier runs whose harness is gone: stop what they left (a
 * harness SIGKILLed before its watchdog could), delete their clusters, and
 * delete all but the newest KEEP_RUNS folders (their logs).
 */
export function sweepDeadRuns(): string[] {
  const swept: string[] = [];
  const dead: { dir: string; mtime: number }[] = [];
  for (const name of readdirSync("/tmp")) {
    if (!name.startsWith("claude-jobs-chaos-")) continue;
    const dir = join("/tmp", name);
    let owner = 0;
    try {
      owner = Number(readFileSync(join(dir, "owner.pid"), "utf8"));
    } catch {
      continue;
    }
    if (existsSync(`/proc/${owner}`) && !readFileSync(`/proc/${owner}/stat`, "utf8").includes(") Z")) continue;
    const left = runProcesses(dir, { under: true });
    for (const p of left) {
      try {
        process.kill(p.pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
    for (const sub of readdirSync(dir, { withFileTypes: true })) {
      if (!sub.isDirectory()) continue;
      for (const leftover of [join(dir, sub.name, "pg"), join(dir, sub.name, "claude", "logs")]) {
        try {
          rmSync(leftover, { recursive: true, force: true });
        } catch {
          /* not a scenario folder */
        }
      }
    }
    rmSync(join(dir, "runtime"), { recursive: true, force: true });
    if (left.length > 0) swept.push(`${dir} (${left.length} processes)`);
    dead.push({ dir, mtime: statSync(dir).mtimeMs });
  }
  for (const old of dead.sort((a, b) => b.mtime - a.mtime).slice(KEEP_RUNS)) rmSync(old.dir, { recursive: true, force: true });
  return swept;
}
