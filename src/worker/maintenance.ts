// Periodic work that every worker takes part in, beside claiming: enqueueing
// the due slots of recurring schedules, deleting jobs past their retention.
// Each task is safe to run in any number of workers at once — the database
// decides who does what (a unique constraint, a transaction-level advisory
// lock), never the belief that one worker is alone — so the runner here only
// paces them: a task runs at start, then every `everyMs` (with jitter), never
// twice at once in one worker, and only while the worker holds its lock.

import type { WorkerDb } from "./db.ts";
import { schedulerTask } from "../schedule/scheduler.ts";
import { retentionTask, type RetentionTaskOptions } from "./retention.ts";
import { webhookTask, type WebhookTaskOptions } from "../notify/deliver.ts";

export interface MaintenanceContext {
  /** The worker's own bounded connections (src/worker/db.ts). */
  db: WorkerDb;
  /** The worker's id (its advisory lock). */
  workerId: number;
  /** The clock; tests pass their own through WorkerOptions.now. */
  now: () => Date;
  /** Aborted when the worker stops: a long task returns early. */
  signal: AbortSignal;
  /** Emits a worker event (`maintenance:<name>` by convention). */
  emit: (event: string, data: unknown) => void;
}

export interface MaintenanceTask {
  /** Shown in errors and events. */
  name: string;
  /** The pace; the first run is at start. */
  everyMs: number;
  run: (ctx: MaintenanceContext) => Promise<void>;
}

export interface MaintenanceDefaults {
  now: () => Date;
  /** Retention's periods and this host's log folder (default: 14 days, failed 30, no log folder). */
  retention?: RetentionTaskOptions;
  /** Webhook deliveries: the global secret, the public URL, the timeout (src/notify/deliver.ts). */
  webhooks?: WebhookTaskOptions;
}

/**
 * The tasks a worker runs unless WorkerOptions.maintenance says otherwise.
 * Features that need periodic work add theirs here.
 */
export function builtinMaintenance(_defaults: MaintenanceDefaults): MaintenanceTask[] {
  return [
    schedulerTask(),
    retentionTask(_defaults.retention),
    webhookTask(_defaults.webhooks),
  ];
}

/** Runs the tasks for one worker. */
export class MaintenanceRunner {
  private readonly timers = new Set<ReturnType<typeof setInterval>>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly stopping = new AbortController();

  constructor(
    private readonly tasks: MaintenanceTask[],
    private readonly context: Omit<MaintenanceContext, "signal" | "workerId">,
    private readonly report: (e: unknown, task: MaintenanceTask) => void,
    /** False while the worker cannot act (reconnecting): a tick is skipped. */
    private readonly active: () => boolean,
    /** The worker's id, known once its lock is taken. */
    private readonly workerId: () => number,
  ) {}

  start(): void {
    for (const task of this.tasks) {
      void this.tick(task);
      // Jitter keeps many workers from running their tasks in lockstep.
      this.timers.add(setInterval(() => void this.tick(task), task.everyMs * (0.9 + Math.random() * 0.2)));
    }
  }

  /** Runs a task now (unless it is running already); resolves when that run ends. */
  runNow(name: string): Promise<void> {
    const task = this.tasks.find((t) => t.name === name);
    return task ? this.tick(task) : Promise.resolve();
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers.clear();
    this.stopping.abort();
    await Promise.all(this.inFlight.values());
  }

  private tick(task: MaintenanceTask): Promise<void> {
    const running = this.inFlight.get(task.name);
    if (running) return running;
    if (this.stopping.signal.aborted || !this.active()) return Promise.resolve();
    const run = task.run({ ...this.context, workerId: this.workerId(), signal: this.stopping.signal })
      .catch((e: unknown) => this.report(e, task))
      .finally(() => this.inFlight.delete(task.name));
    this.inFlight.set(task.name, run);
    return run;
  }
}
