// Writes job outcomes in batches: one fenced UPDATE for every completion that
// arrived while the previous write was in flight. Under load this turns
// thousands of small writes into a few large ones; idle, a completion is
// written at once. A write that fails (database away) is retried, never lost.

import { jobCompleteMany, type Completion } from "../db/jobs.ts";
import type { WorkerDb } from "./db.ts";

const MAX_BATCH = 1000;
const RETRY_MS = 500;

export interface CompleterEvents {
  /** `owned`: the ids actually written; the others had been rescued or cancelled away. */
  written(done: Completion[], owned: Set<string>): void;
  error(e: unknown): void;
}

interface Pending {
  /** The worker id the attempt was claimed under: the fence. */
  workerId: number;
  done: Completion;
}

export class Completer {
  private buffer: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private readonly inFlight = new Set<string>();

  constructor(private readonly db: WorkerDb, private readonly events: CompleterEvents) {}

  add(workerId: number, done: Completion): void {
    this.buffer.push({ workerId, done });
    this.flushing ??= this.flushLoop();
  }

  /** Whether an outcome of this job waits to be written (or is being written). */
  holds(id: string): boolean {
    return this.buffer.some((p) => p.done.id === id) || this.inFlight.has(id);
  }

  /** Resolves when everything added so far is written. */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flushLoop(): Promise<void> {
    while (this.buffer.length > 0) {
      const workerId = this.buffer[0]!.workerId;
      const batch: Completion[] = [];
      const rest: Pending[] = [];
      for (const p of this.buffer) {
        if (p.workerId === workerId && batch.length < MAX_BATCH) batch.push(p.done);
        else rest.push(p);
      }
      this.buffer = rest;
      for (const d of batch) this.inFlight.add(d.id);
      try {
        const owned = await this.db.run((sql) => jobCompleteMany(sql, workerId, batch));
        this.inFlight.clear();
        this.events.written(batch, owned);
      } catch (e: unknown) {
        this.buffer.unshift(...batch.map((done) => ({ workerId, done })));
        this.inFlight.clear();
        this.events.error(e);
        await Bun.sleep(RETRY_MS);
      }
    }
    this.flushing = null;
  }
}
