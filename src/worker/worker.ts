// The worker: claims due jobs into free slots, runs them, writes outcomes,
// rescues orphans, and stops gracefully. The producer loop knows when to
// fetch (a NOTIFY, a poll tick, a freed slot, a retry coming due) and asks
// for exactly as many jobs as it has free slots; the executor runs one job;
// the completer writes outcomes in batches; the lock proves it alive.

import { EventEmitter } from "node:events";
import { hostname } from "node:os";
import type { Sql } from "../db/connect.ts";
import { jobClaim, jobOwnershipCheck, jobProgress, jobRescue, type Completion } from "../db/jobs.ts";
import type { AbortReason, Handler, JobRecord } from "../handlers/types.ts";
import { HandlerRegistry } from "../handlers/registry.ts";
import { Completer } from "./completer.ts";
import { abort, execute, type RunningJob } from "./executor.ts";
import { WorkerLock } from "./lock.ts";
import { Notifier } from "./notifier.ts";
import { VERSION } from "../version.ts";

/** Unanswered lock probes in a row (every lockProbeIntervalMs, 5 s each at most) before giving up the lock. */
const MAX_UNANSWERED_PROBES = 6;
/** How long shutdown waits to write the last outcomes before leaving them to the rescuer. */
const COMPLETER_DRAIN_MS = 10_000;

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
  /** A wall-clock limit for every job of this worker; null: none (handlers may have their own). */
  jobTimeoutMs?: number | null;
}

export interface StopOptions {
  /** How long running jobs may go on before they are stopped and put back. */
  timeoutMs?: number;
}

export class Worker extends EventEmitter {
  readonly concurrency: number;
  readonly queues: string[] | null;
  private readonly sql: Sql;
  private readonly registry: HandlerRegistry;
  private readonly kinds: string[];
  private readonly options: Required<Omit<WorkerOptions, "sql" | "handlers" | "queues" | "concurrency">>;
  private readonly lock: WorkerLock;
  private readonly notifier: Notifier;
  private readonly completer: Completer;
  private readonly running = new Map<string, RunningJob & { workerId: number }>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private state: "new" | "running" | "stopping" | "stopped" = "new";
  private fetching = false;
  private fetchWanted = false;
  private fetchScheduled = false;
  /** The producer loop in flight, if any: shutdown waits for its claim to land. */
  private fetchDone: Promise<void> | null = null;
  private startup: Promise<void> | null = null;
  private stopped: Promise<void> | null = null;
  /** The lock probe in flight: ticks while one runs (or re-registers) are skipped. */
  private probing: Promise<void> | null = null;
  /** Between losing the lock and holding a new one: nothing is claimed. */
  private relocking = false;
  /** Lock probes in a row that got no answer in time. */
  private unansweredProbes = 0;

  constructor(options: WorkerOptions) {
    super();
    this.sql = options.sql;
    this.registry = options.handlers instanceof HandlerRegistry ? options.handlers : registryOf(options.handlers);
    this.kinds = this.registry.kinds();
    this.concurrency = options.concurrency ?? 10;
    const queues = options.queues ?? ["*"];
    this.queues = queues.includes("*") ? null : queues;
    this.options = {
      pollIntervalMs: options.pollIntervalMs ?? 5000,
      rescueIntervalMs: options.rescueIntervalMs ?? 15_000,
      lockProbeIntervalMs: options.lockProbeIntervalMs ?? 2000,
      jobTimeoutMs: options.jobTimeoutMs ?? null,
    };
    this.lock = new WorkerLock(this.sql, {
      host: hostname(), pid: process.pid, queues, concurrency: this.concurrency, version: VERSION,
    });
    this.notifier = new Notifier(this.sql, {
      wake: (queue) => { if (this.queues === null || this.queues.includes(queue)) this.requestFetch(); },
      cancel: (id) => this.stopJob(id, { kind: "cancelled", message: "cancelled by request" }),
      listening: () => { this.requestFetch(); void this.checkOwnership(); },
      error: (e) => this.emit("error", e),
    });
    this.completer = new Completer(this.sql, {
      written: (done, owned) => this.onWritten(done, owned),
      error: (e) => this.emit("error", e),
    });
  }

  get id(): number {
    return this.lock.id;
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
    if (this.concurrency < 1) throw new Error("concurrency must be at least 1");
    for (const [, def] of this.registry.entries()) await def.preflight?.();
    await this.lock.acquire();
    this.state = "running";
    await this.notifier.start();
    await this.rescue();
    this.every(this.options.pollIntervalMs, () => { this.requestFetch(); void this.checkOwnership(); });
    this.every(this.options.rescueIntervalMs, () => this.rescue());
    this.every(this.options.lockProbeIntervalMs, () => {
      this.probing ??= this.probeLock().finally(() => (this.probing = null));
    });
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
    this.stopped = this.shutdown(options.timeoutMs ?? 30_000);
    return this.stopped;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    // A stop during start waits for the start to finish, so the state it sets
    // and the lock it takes are seen here and released below.
    await this.startup?.catch(() => {});
    this.state = "stopping";
    for (const t of this.timers) clearInterval(t);
    this.timers.clear();
    // A claim in flight must land before the running set is read: its jobs
    // are then handed back (fetchLoop sees the state) or waited for.
    await this.fetchDone;
    const settled = Promise.all([...this.running.values()].map((r) => r.done));
    const timedOut = await Promise.race([settled.then(() => false), Bun.sleep(timeoutMs).then(() => true)]);
    if (timedOut) this.abortAll({ kind: "shutdown", message: `worker shut down; job stopped after ${timeoutMs}ms and put back` });
    await Promise.all([...this.running.values()].map((r) => r.done));
    // Outcomes that cannot be written (the database gone) are given up after
    // a while: the jobs stay running under our lock, which ends with this
    // process, and the rescuer puts them back.
    await Promise.race([this.completer.drain(), Bun.sleep(COMPLETER_DRAIN_MS)]);
    await this.notifier.stop();
    await this.probing; // a re-registration in flight must finish before the lock is released
    await this.lock.release(true);
    this.state = "stopped";
    this.emit("worker:stop", { id: this.id });
  }

  private every(ms: number, fn: () => unknown): void {
    // Jitter keeps many workers from polling in lockstep.
    const t = setInterval(() => void fn(), ms * (0.9 + Math.random() * 0.2));
    this.timers.add(t);
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
      while (this.fetchWanted && this.state === "running" && !this.relocking) {
        this.fetchWanted = false;
        const free = this.concurrency - this.running.size;
        if (free <= 0) break; // a finishing job asks again
        let jobs: JobRecord[];
        try {
          jobs = await jobClaim(this.sql, { workerId: this.lock.id, queues: this.queues, kinds: this.kinds, limit: free });
        } catch (e: unknown) {
          if ((e as { code?: string }).code === "23505") { this.fetchWanted = true; continue; } // lost a key race
          this.emit("error", e);
          break; // the next poll tries again
        }
        // Claimed while stopping, or under a lock lost meanwhile: not to be
        // run here. Hand them back at once, the attempt not counted.
        if (this.state !== "running" || this.relocking || jobs.some((job) => job.workerId !== this.lock.id)) {
          for (const job of jobs) this.handBack(job);
          break;
        }
        for (const job of jobs) this.startJob(job);
        if (jobs.length === free) this.fetchWanted = true; // there may be more
      }
    } finally {
      this.fetching = false;
    }
  }

  private handBack(job: JobRecord): void {
    this.completer.add(job.workerId!, {
      id: job.id, attempt: job.attempts, status: "queued", error: null, result: null, retryInMs: 0, refund: true,
    });
  }

  private startJob(job: JobRecord): void {
    const workerId = this.lock.id;
    const progress = (patch: Record<string, unknown>) => {
      jobProgress(this.sql, { id: job.id, workerId, attempt: job.attempts, patch }).catch((e: unknown) => this.emit("error", e));
    };
    const run = { ...execute(job, this.registry.get(job.kind), { timeoutMs: this.options.jobTimeoutMs, progress }), workerId };
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

  /** Polling fallback for cancels, and a check that no job was rescued away from us. */
  private async checkOwnership(): Promise<void> {
    const mine = [...this.running.values()].filter((r) => r.workerId === this.lock.id);
    if (mine.length === 0) return;
    try {
      const stale = await jobOwnershipCheck(this.sql, this.lock.id, mine.map((r) => ({ id: r.job.id, attempt: r.job.attempts })));
      for (const s of stale) {
        this.stopJob(s.id, s.cancelled
          ? { kind: "cancelled", message: "cancelled by request" }
          : { kind: "lost_ownership", message: "the job was taken from this worker (rescued or deleted)" });
      }
    } catch (e: unknown) {
      this.emit("error", e);
    }
  }

  private async rescue(): Promise<void> {
    try {
      const rescued = await jobRescue(this.sql);
      if (rescued.length > 0) {
        this.emit("job:rescued", rescued);
        this.requestFetch();
      }
    } catch (e: unknown) {
      this.emit("error", e);
    }
  }

  private async probeLock(): Promise<void> {
    if (this.state !== "running") return;
    const state = await this.lock.probe(5000);
    this.unansweredProbes = state === "unknown" ? this.unansweredProbes + 1 : 0;
    // A lost lock stops our jobs at once. Unanswered probes do not, until so
    // many in a row that we can no longer claim to be alive (a starved event
    // loop, a pool stuck behind long queries): a slow answer is not a death.
    if (state === "lost" || this.unansweredProbes >= MAX_UNANSWERED_PROBES) {
      this.unansweredProbes = 0;
      await this.recoverLock();
    }
  }

  private async recoverLock(): Promise<void> {
    // We cannot prove we are alive to others, so our jobs may be rescued and
    // run elsewhere: stop them now, then come back under a new identity.
    this.emit("worker:lock-lost", { id: this.id });
    this.relocking = true;
    this.abortAll({ kind: "lost_ownership", message: "the worker lost its database lock; job stopped so it cannot run twice" });
    // Our old session may still live and hold the lock; re-registering ends
    // it, which lets the rescuer hand our jobs to others. Their processes
    // must be gone first (the Claude handler kills its tree within the grace).
    await Promise.all([...this.running.values()].map((r) => r.done));
    try {
      await this.lock.acquire();
      this.relocking = false;
      this.emit("worker:relock", { id: this.id });
      this.requestFetch();
    } catch (e: unknown) {
      this.emit("error", e); // the next probe tries again
    }
  }
}

function registryOf(handlers: Record<string, Handler>): HandlerRegistry {
  const registry = new HandlerRegistry();
  for (const [kind, handler] of Object.entries(handlers)) registry.register(kind, handler);
  return registry;
}
