// The worker: claims due jobs into free slots, runs them, writes outcomes,
// rescues orphans, and stops gracefully. The producer loop knows when to
// fetch (a NOTIFY, a poll tick, a freed slot, a retry coming due) and asks
// for exactly as many jobs as it has free slots; the executor runs one job;
// the completer writes outcomes in batches; the lock proves it alive.
//
// Its life, every transition there is (anything else is a bug):
//
//   new ─start()─▶ starting ──lock taken──▶ running ◀──lock taken again, jobs kept── reconnecting
//                    │  (waits for the         │ ──lock session closed, or unanswered──▶ │
//                    │   database, as long     │                                         │ no proof of the lock
//                    │   as it takes)          │                                         │ for fenceAfterMs:
//                    │                         │                                         │ every job stopped
//                    └──────── stop() ─────────┴────────────── stop() ───────────────────┴─▶ stopping ─▶ stopped
//
// Claims happen only in `running`, on the lock session. Jobs keep running
// while `reconnecting`: a lost session is not a dead worker. The fence (see
// liveness.ts) is what keeps a job from running in two places at once: once
// the worker cannot prove its lock for fenceAfterMs it stops every job,
// before any rescuer may take them.

import { EventEmitter } from "node:events";
import { hostname } from "node:os";
import type { Sql } from "../db/connect.ts";
import { jobOwnershipCheck, jobProgress, jobRescue, jobRunningOfWorker, type Completion, type RescueSuspect } from "../db/jobs.ts";
import { isDatabaseUnavailable, QUERY_TIMEOUT } from "../db/unavailable.ts";
import type { AbortReason, Handler, JobRecord } from "../handlers/types.ts";
import { HandlerRegistry } from "../handlers/registry.ts";
import { isProcessAlive, pidNamespaceId, processesWithEnv, processStartTime } from "../proc/scan.ts";
import { OWNER_ENV, OWNER_TOKEN } from "../proc/guard.ts";
import { MAX_TIMER_MS, formatDuration } from "../duration.ts";
import { Completer } from "./completer.ts";
import { QUERY_TIMEOUT_MS, WorkerDb } from "./db.ts";
import { noAnswer, settlesWithin, withDeadline } from "./deadline.ts";
import { abort, execute, type RunningJob } from "./executor.ts";
import { DEFAULT_HANDLER_STOP_MS, livenessTimings, type LivenessTimings } from "./liveness.ts";
import { LockNotFreeError, WorkerLock } from "./lock.ts";
import { builtinMaintenance, MaintenanceRunner, type MaintenanceTask } from "./maintenance.ts";
import { Notifier } from "./notifier.ts";
import { UsagePauses } from "./usage-pause.ts";
import { VERSION } from "../version.ts";

/** How long shutdown waits to write the last outcomes before leaving them to the rescuer. */
const COMPLETER_DRAIN_MS = 10_000;
/** Retrying the database (at start, and to take the lock again): from this, doubling, to the cap. */
const RETRY_FIRST_MS = 250;
const RETRY_CAP_MS = 5000;
/**
 * One attempt to open the lock session and take the lock. postgres.js's
 * connect_timeout covers only the TCP connect: a server (or a proxy) that
 * accepts and never answers would hold the attempt forever.
 */
const ACQUIRE_TIMEOUT_MS = 15_000;

export type WorkerState = "new" | "starting" | "running" | "reconnecting" | "stopping" | "stopped";

export interface WorkerOptions {
  sql: Sql;
  handlers: Record<string, Handler> | HandlerRegistry;
  /** Queues in the order they are served; ["*"] (the default) means all. */
  queues?: string[];
  concurrency?: number;
  pollIntervalMs?: number;
  /** How often to look for jobs of dead workers (also at start). */
  rescueIntervalMs?: number;
  /** How often to prove the worker still holds its lock. */
  lockProbeIntervalMs?: number;
  /** Unable to prove its lock for this long, the worker stops every job (see liveness.ts). Default 40 s. */
  fenceAfterMs?: number;
  /** A wall-clock limit for every job of this worker; null: none (handlers may have their own). */
  jobTimeoutMs?: number | null;
  /**
   * Periodic tasks (src/worker/maintenance.ts): the built-in ones by default
   * (schedules, retention); [] for none.
   */
  maintenance?: MaintenanceTask[];
  /** The clock for maintenance tasks (schedules, retention). Tests inject one. */
  now?: () => Date;
}

export interface StopOptions {
  /** How long running jobs may go on before they are stopped and put back. */
  timeoutMs?: number;
}

/** The default fence: long enough that a 30 s outage of PostgreSQL costs no job. */
const DEFAULT_FENCE_AFTER_MS = 40_000;

export class Worker extends EventEmitter {
  readonly concurrency: number;
  readonly queues: string[] | null;
  readonly timings: LivenessTimings;
  private readonly sql: Sql;
  private readonly registry: HandlerRegistry;
  private readonly kinds: string[];
  private readonly options: { pollIntervalMs: number; rescueIntervalMs: number; jobTimeoutMs: number | null };
  private readonly lock: WorkerLock;
  /** The worker's own connections for outcomes, progress, rescues and checks (not the caller's pool). */
  private readonly db: WorkerDb;
  private readonly notifier: Notifier;
  private readonly completer: Completer;
  private readonly running = new Map<string, RunningJob>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private _state: WorkerState = "new";
  /** Every job was stopped because the lock could not be proven; cleared when it is held again. */
  private fenced = false;
  private fetching = false;
  private fetchWanted = false;
  private fetchScheduled = false;
  /** The producer loop in flight, if any: shutdown waits for its claim to land. */
  private fetchDone: Promise<void> | null = null;
  private startup: Promise<void> | null = null;
  private stopped: Promise<void> | null = null;
  /** Wakes the start and reconnect loops' waits when stop() is called. */
  private readonly stopRequested = new AbortController();
  /** Resolves (to false) when stop() is called. */
  private readonly stopSignaled = new Promise<false>((resolve) =>
    this.stopRequested.signal.addEventListener("abort", () => resolve(false), { once: true }));
  /** The lock probe in flight: ticks while one runs are skipped. */
  private probing: Promise<void> | null = null;
  private reconnecting: Promise<void> | null = null;
  private rescuing: Promise<void> | null = null;
  private nextRescue: ReturnType<typeof setTimeout> | null = null;
  private readonly maintenance: MaintenanceRunner;
  /** Accounts paused on their usage limit: their kinds are left out of claims (usage-pause.ts). */
  private readonly usage: UsagePauses;

  constructor(options: WorkerOptions) {
    super();
    this.sql = options.sql;
    this.registry = options.handlers instanceof HandlerRegistry ? options.handlers : registryOf(options.handlers);
    this.kinds = this.registry.kinds();
    this.concurrency = options.concurrency ?? 10;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) throw new RangeError(`concurrency: must be an integer of at least 1; got ${this.concurrency}`);
    const queues = options.queues ?? ["*"];
    this.queues = queues.includes("*") ? null : queues;
    this.options = {
      pollIntervalMs: interval("pollIntervalMs", options.pollIntervalMs ?? 5000),
      rescueIntervalMs: interval("rescueIntervalMs", options.rescueIntervalMs ?? 15_000),
      jobTimeoutMs: options.jobTimeoutMs ?? null,
    };
    const stopWithinMs = Math.max(DEFAULT_HANDLER_STOP_MS, ...this.registry.entries().map(([, d]) => d.stopWithinMs ?? 0));
    this.timings = livenessTimings({
      probeIntervalMs: interval("lockProbeIntervalMs", options.lockProbeIntervalMs ?? 2000),
      fenceAfterMs: options.fenceAfterMs ?? DEFAULT_FENCE_AFTER_MS,
      stopWithinMs,
    });
    // Its own connections are named after the caller's pool: "<name> lock", "<name> data".
    const appName = (this.sql.options.connection as Record<string, string | undefined>).application_name ?? "claude-jobs";
    this.lock = new WorkerLock(this.sql, `${appName} lock`, {
      host: hostname(), pid: process.pid, queues, concurrency: this.concurrency, version: VERSION,
      rescueGraceMs: this.timings.rescueGraceMs, pidSpace: pidNamespaceId(), pidStart: processStartTime(process.pid),
      ownerToken: OWNER_TOKEN, kinds: this.kinds,
    }, (why) => this.toReconnecting(why));
    this.notifier = new Notifier(this.sql, {
      wake: (queue) => { if (this.queues === null || this.queues.includes(queue)) this.requestFetch(); },
      cancel: (id) => this.stopJob(id, { kind: "cancelled", message: "cancelled by request" }),
      listening: () => { this.requestFetch(); void this.checkOwnership(); },
      error: (e) => this.report(e),
    });
    this.db = new WorkerDb(this.sql, `${appName} data`);
    this.completer = new Completer(this.db, {
      written: (done, owned) => this.onWritten(done, owned),
      error: (e) => this.report(e),
    });
    const now = options.now ?? (() => new Date());
    this.usage = new UsagePauses(this.sql, this.db, this.registry.entries(), {
      changed: () => this.requestFetch(), paused: (p) => this.emit("worker:usage-paused", p), error: (e) => this.report(e),
    }, now);
    this.maintenance = new MaintenanceRunner(
      options.maintenance ?? builtinMaintenance({ now }),
      { db: this.db, now, emit: (event, data) => this.emit(event, data) },
      // A task cut off by a lost connection is no error of its own: it runs again next tick (report() drops those).
      (e, task) => this.report(isDatabaseUnavailable(e) ? e : new Error(`maintenance task ${task.name} failed: ${(e as Error)?.message ?? String(e)}`, { cause: e })),
      () => this._state === "running",
      () => this.id,
    );
  }

  /** Runs a maintenance task now (tests, and `cron run`-like actions); resolves when it has run. */
  runMaintenance(name: string): Promise<void> {
    return this.maintenance.runNow(name);
  }

  get id(): number {
    return this.lock.id;
  }

  get state(): WorkerState {
    return this._state;
  }

  get runningCount(): number {
    return this.running.size;
  }

  start(): Promise<void> {
    if (this.startup) throw new Error("a worker can be started once");
    this.startup = this.startUp();
    return this.startup;
  }

  private async startUp(): Promise<void> {
    this._state = "starting";
    for (const [, def] of this.registry.entries()) await def.preflight?.();
    // PostgreSQL may not be up yet (a host booting, a restart): wait for it,
    // saying so once. Anything else (a wrong password, no schema) is thrown.
    let waiting = false;
    for (let delay = RETRY_FIRST_MS; ; delay = Math.min(delay * 2, RETRY_CAP_MS)) {
      if (this.stopRequested.signal.aborted) return;
      try {
        // A connection attempt can hang (a black-holed host, until
        // connect_timeout): stop() must not wait for it.
        if (!(await this.acquireLock())) return;
        break;
      } catch (e: unknown) {
        if (!isDatabaseUnavailable(e)) throw e;
        if (!waiting) this.emit("worker:waiting", { reason: describe(e) });
        waiting = true;
        await this.pause(delay);
      }
    }
    if (this.stopRequested.signal.aborted) return;
    this._state = "running";
    await this.notifier.start();
    await this.usage.start();
    this.every(this.options.pollIntervalMs, () => { this.requestFetch(); void this.checkOwnership(); void this.usage.refresh(); });
    this.every(this.options.rescueIntervalMs, () => this.rescue());
    this.every(this.timings.probeIntervalMs, () => {
      // The fence is checked on every tick, also while a probe hangs (up to
      // its timeout): liveness.ts counts on one probe interval of delay.
      this.checkFence();
      this.probing ??= this.probeLock().finally(() => (this.probing = null));
    });
    void this.rescue();
    this.maintenance.start();
    this.emit("worker:start", { id: this.id });
    this.requestFetch();
  }

  /**
   * Stops claiming, lets running jobs finish for up to `timeoutMs`, then stops
   * them and puts them back. Calling it again while stopping is immediate.
   */
  stop(options: StopOptions = {}): Promise<void> {
    if (this.stopped) {
      this.abortAll({ kind: "shutdown", message: "worker stopped immediately (second signal)" });
      return this.stopped;
    }
    this.stopRequested.abort();
    this.stopped = this.shutdown(options.timeoutMs ?? 30_000);
    return this.stopped;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    // A stop during start waits for the start to finish (or give up waiting
    // for the database), so the lock it took is seen here and released below.
    await this.startup?.catch(() => {});
    this._state = "stopping";
    for (const t of this.timers) clearInterval(t);
    this.timers.clear();
    if (this.nextRescue) clearTimeout(this.nextRescue);
    // A claim in flight must land before the running set is read: its jobs
    // are then handed back (fetchLoop sees the state) or waited for.
    await this.fetchDone;
    const timedOut = !(await settlesWithin(timeoutMs, Promise.all([...this.running.values()].map((r) => r.done))));
    if (timedOut) this.abortAll({ kind: "shutdown", message: `worker shut down; job stopped after ${formatDuration(timeoutMs)} and put back` });
    await Promise.all([...this.running.values()].map((r) => r.done));
    // Outcomes that cannot be written (the database gone) are given up after
    // a while: the jobs stay running under our lock, which ends with this
    // process, and the rescuer puts them back.
    await settlesWithin(COMPLETER_DRAIN_MS, this.completer.drain());
    await this.notifier.stop();
    await this.usage.stop();
    await this.probing;
    await this.reconnecting;
    await this.rescuing;
    await this.maintenance.stop();
    await this.lock.release();
    await this.db.end();
    this._state = "stopped";
    this.emit("worker:stop", { id: this.id });
  }

  private every(ms: number, fn: () => unknown): void {
    // Jitter keeps many workers from polling in lockstep.
    const t = setInterval(() => void fn(), ms * (0.9 + Math.random() * 0.2));
    this.timers.add(t);
  }

  /**
   * One attempt at the lock: true when taken, false when stop() came first.
   * Throws what the attempt threw, or a timeout (as a connection error).
   */
  private async acquireLock(): Promise<boolean> {
    const attempt = Promise.race([this.lock.acquire().then(() => true), this.stopSignaled]);
    try {
      const taken = await withDeadline(attempt, ACQUIRE_TIMEOUT_MS,
        () => noAnswer(`no answer from PostgreSQL in ${formatDuration(ACQUIRE_TIMEOUT_MS)}`, "CONNECT_TIMEOUT"));
      if (!taken) this.lock.abandon();
      return taken;
    } catch (e: unknown) {
      this.lock.abandon(); // a hanging attempt is dropped, not left to finish later
      throw e;
    }
  }

  /** Sleeps, or returns early when stop() is called. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.stopRequested.signal;
      const done = () => { clearTimeout(t); signal.removeEventListener("abort", done); resolve(); };
      const t = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /** Asks the producer loop to claim; calls while a claim is in flight coalesce into one more. */
  requestFetch(): void {
    this.fetchWanted = true;
    if (this.fetching || this.fetchScheduled) return;
    // Start on the next turn of the event loop, so that the jobs finishing in
    // this turn free their slots first and one claim fills them all.
    this.fetchScheduled = true;
    setImmediate(() => {
      this.fetchScheduled = false;
      if (!this.fetching) this.fetchDone = this.fetchLoop();
    });
  }

  private async fetchLoop(): Promise<void> {
    this.fetching = true;
    try {
      while (this.fetchWanted && this._state === "running") {
        this.fetchWanted = false;
        const free = this.concurrency - this.running.size;
        if (free <= 0) break; // a finishing job asks again
        let jobs: JobRecord[];
        try {
          jobs = await this.claim(free);
        } catch (e: unknown) {
          // Lost a race for a concurrency slot (or two claims deadlocked on
          // each other's slots): nothing was claimed; claim again.
          const code = (e as { code?: string }).code;
          if (code === "23505" || code === "40P01") { this.fetchWanted = true; continue; }
          this.report(e);
          break; // the next poll tries again
        }
        // Claimed while stopping or reconnecting: not to be run here now.
        // Hand them back at once, the attempt not counted.
        if (this._state !== "running") {
          for (const job of jobs) this.putBack(job.workerId!, job.id, job.attempts);
          break;
        }
        for (const job of jobs) this.startJob(job);
        if (jobs.length === free) this.fetchWanted = true; // there may be more
      }
    } finally {
      this.fetching = false;
    }
  }

  /**
   * A claim on the lock session, bounded: one that gets no answer in time
   * means the session is in trouble, so it is replaced. If that claim did
   * commit, its jobs are found and put back after the lock is taken again
   * (reconcile).
   */
  private claim(limit: number): Promise<JobRecord[]> {
    const kinds = this.usage.claimable(this.kinds);
    if (kinds.length === 0) return Promise.resolve([]);
    return withDeadline(this.lock.claim({ queues: this.queues, kinds, limit }), QUERY_TIMEOUT_MS, () => {
      this.toReconnecting("a claim got no answer");
      return noAnswer("a claim got no answer", QUERY_TIMEOUT);
    });
  }

  /**
   * After the lock is taken again: jobs the database says we run but we do
   * not (a claim whose answer was lost with the old session) go back to the
   * queue, the attempt not counted. No rescuer would take them from a live
   * worker. Outcomes still waiting in the completer are left to it.
   */
  private async reconcile(): Promise<void> {
    try {
      const owned = await this.db.run((sql) => jobRunningOfWorker(sql, this.lock.id));
      for (const o of owned) {
        if (!this.running.has(o.id) && !this.completer.holds(o.id)) this.putBack(this.lock.id, o.id, o.attempt);
      }
    } catch (e: unknown) {
      this.report(e);
    }
  }

  /** Back to the queue at once, the attempt not counted: an attempt this worker will not run. */
  private putBack(workerId: number, id: string, attempt: number): void {
    this.completer.add(workerId, { id, attempt, status: "queued", error: null, result: null, retryInMs: 0, refund: true });
  }

  private startJob(job: JobRecord): void {
    const workerId = this.lock.id;
    const progress = (patch: Record<string, unknown>) => {
      this.db.run((sql) => jobProgress(sql, { id: job.id, workerId, attempt: job.attempts, patch })).catch((e: unknown) => this.report(e));
    };
    const run = execute(job, this.registry.get(job.kind), {
      timeoutMs: this.options.jobTimeoutMs, progress, accountLimit: (notice) => this.usage.record(notice),
    });
    this.running.set(job.id, run);
    this.emit("job:start", job);
    void run.done.then((done: Completion) => {
      this.running.delete(job.id);
      this.completer.add(workerId, done);
      this.requestFetch();
    });
  }

  private onWritten(done: Completion[], owned: Set<string>): void {
    for (const d of done) {
      if (!owned.has(d.id)) {
        this.emit("job:lost", d);
        continue;
      }
      this.emit(`job:${d.status === "queued" ? "retry" : d.status}`, d);
      if (d.status === "queued" && d.retryInMs > 0 && d.retryInMs < this.options.pollIntervalMs) {
        const t = setTimeout(() => { this.timers.delete(t); this.requestFetch(); }, d.retryInMs + 5);
        this.timers.add(t);
      }
    }
    // A written outcome may have freed a concurrency key that blocked others.
    if (owned.size > 0) this.requestFetch();
  }

  private stopJob(id: string, reason: AbortReason): void {
    const run = this.running.get(id);
    if (run) abort(run, reason);
  }

  private abortAll(reason: AbortReason): void {
    for (const run of this.running.values()) abort(run, reason);
  }

  /** Errors worth a word. While the database is away, the state change says it once instead. */
  private report(e: unknown): void {
    if (isDatabaseUnavailable(e)) return;
    this.emit("error", e);
  }

  /** Polling fallback for cancels, and a check that no job was rescued away from us. */
  private async checkOwnership(): Promise<void> {
    const mine = [...this.running.values()];
    if (mine.length === 0) return;
    try {
      const stale = await this.db.run((sql) => jobOwnershipCheck(sql, this.lock.id, mine.map((r) => ({ id: r.job.id, attempt: r.job.attempts }))));
      for (const s of stale) {
        this.stopJob(s.id, s.cancelled
          ? { kind: "cancelled", message: "cancelled by request" }
          : { kind: "lost_ownership", message: "the job was taken from this worker (rescued or deleted)" });
      }
    } catch (e: unknown) {
      this.report(e);
    }
  }

  // --- Rescue: jobs of workers that are gone ------------------------------

  private rescue(): Promise<void> {
    if (this._state !== "running") return Promise.resolve();
    this.rescuing ??= this.rescuePass().finally(() => (this.rescuing = null));
    return this.rescuing;
  }

  private async rescuePass(): Promise<void> {
    try {
      let outcome = await this.db.run((sql) => jobRescue(sql));
      // Suspects on this host whose process is gone, with nothing it started
      // left alive, are dead for certain: no grace to wait out.
      const dead = outcome.suspects.filter((s) => certainlyDeadHere(s)).map((s) => s.workerId);
      if (dead.length > 0) {
        const second = await this.db.run((sql) => jobRescue(sql, dead));
        outcome = { rescued: [...outcome.rescued, ...second.rescued], suspects: second.suspects };
      }
      if (outcome.rescued.length > 0) {
        this.emit("job:rescued", outcome.rescued);
        this.requestFetch();
      }
      this.scheduleRescue(outcome.suspects);
    } catch (e: unknown) {
      this.report(e);
    }
  }

  /** Comes back when the first suspect's grace ends (or sooner, to see a local one die), if before the next tick. */
  private scheduleRescue(suspects: RescueSuspect[]): void {
    if (suspects.length === 0 || this._state !== "running") return;
    const local = suspects.some((s) => s.pidSpace === pidNamespaceId());
    const dueIn = Math.min(...suspects.map((s) => s.dueInMs + 50), local ? 1000 : Infinity);
    if (dueIn >= this.options.rescueIntervalMs) return;
    if (this.nextRescue) clearTimeout(this.nextRescue);
    this.nextRescue = setTimeout(() => { this.nextRescue = null; void this.rescue(); }, dueIn);
  }

  // --- The lock: proving we are alive, and what we do when we cannot -------

  private async probeLock(): Promise<void> {
    if (this._state !== "running") return;
    const state = await this.lock.probe(this.timings.probeTimeoutMs);
    // No answer in time: the session may be cut without either side knowing
    // (a partition). Replace it; our jobs go on meanwhile.
    if (state !== "held") this.toReconnecting(state === "lost" ? "the lock session is gone" : "the lock session did not answer");
  }

  /** running -> reconnecting. Jobs keep running; claims stop; the lock is taken again as soon as it can be. */
  private toReconnecting(why: string): void {
    if (this._state !== "running") return;
    this._state = "reconnecting";
    this.lock.abandon();
    this.emit("worker:disconnected", { id: this.id, reason: why, running: this.running.size });
    this.reconnecting = this.reconnect().finally(() => (this.reconnecting = null));
  }

  private async reconnect(): Promise<void> {
    for (let delay = RETRY_FIRST_MS; this._state === "reconnecting"; delay = Math.min(delay * 2, RETRY_CAP_MS)) {
      this.checkFence();
      try {
        if (!(await this.acquireLock())) return;
      } catch (e: unknown) {
        // Unreachable, or our old session not yet ended: try again. Anything
        // else is reported, and tried again too: a live worker does not give up.
        if (!isDatabaseUnavailable(e) && !(e instanceof LockNotFreeError)) this.emit("error", e);
        await this.pause(e instanceof LockNotFreeError ? RETRY_FIRST_MS : delay);
        continue;
      }
      if (this._state !== "reconnecting") return; // stopping: shutdown releases the new session
      this._state = "running";
      const fenced = this.fenced;
      this.fenced = false;
      this.emit("worker:reconnected", { id: this.id, generation: this.lock.generation, running: this.running.size, fenced });
      void this.notifier.start(); // channels that could not be listened to
      void this.checkOwnership();
      await this.reconcile();
      this.requestFetch();
      return;
    }
  }

  /**
   * The fence: no proof of our lock for fenceAfterMs means rescuers may soon
   * take our jobs, so they are stopped now (processes and all), before the
   * grace that rescuers give us runs out. Their attempts are not counted.
   */
  private checkFence(): void {
    if (this._state !== "running" && this._state !== "reconnecting") return;
    const unproven = performance.now() - this.lock.provenAt;
    // Proven again since (a starved event loop that caught up, a session
    // taken again): the next loss of proof needs a fence of its own.
    if (unproven < this.timings.fenceAfterMs) { this.fenced = false; return; }
    if (this.fenced || this.running.size === 0) return;
    this.fenced = true;
    const jobs = [...this.running.keys()];
    this.abortAll({
      kind: "lost_ownership",
      message: `the worker could not prove its database lock for ${formatDuration(unproven)}; job stopped so that it cannot run twice`,
    });
    this.emit("worker:fenced", { id: this.id, jobs });
    const stopped = Promise.all([...this.running.values()].map((r) => r.done));
    void settlesWithin(this.timings.stopWithinMs, stopped).then((inTime) => {
      if (!inTime) this.emit("error", new Error(`jobs of worker ${this.id} did not stop within ${formatDuration(this.timings.stopWithinMs)} of the fence; they may now run twice`));
    });
  }
}

/** Whether a suspect runs on this host (same pid namespace) and is gone, with every process it started. */
function certainlyDeadHere(s: RescueSuspect): boolean {
  if (s.pidSpace !== pidNamespaceId() || s.pid === null || s.pidStart === null) return false;
  if (isProcessAlive(s.pid, s.pidStart)) return false;
  return s.ownerToken === null || processesWithEnv(OWNER_ENV, s.ownerToken).length === 0;
}

function interval(name: string, ms: number): number {
  // The jitter adds up to 10%; setInterval fires at once past 2^31-1 ms.
  const max = Math.floor(MAX_TIMER_MS / 1.1);
  if (!Number.isFinite(ms) || ms <= 0 || ms > max) throw new RangeError(`${name}: must be more than 0 and at most ${max} ms; got ${ms}`);
  return ms;
}

function describe(e: unknown): string {
  const err = e as { code?: string; message?: string };
  return [err.code, err.message].filter(Boolean).join(": ") || String(e);
}

function registryOf(handlers: Record<string, Handler>): HandlerRegistry {
  const registry = new HandlerRegistry();
  for (const [kind, handler] of Object.entries(handlers)) registry.register(kind, handler);
  return registry;
}
