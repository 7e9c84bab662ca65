// A receiver for webhook tests: Bun.serve on 127.0.0.1 (port 0) that answers
// from a script (status, delay) and keeps every request it got; and the
// context the delivery task runs with, on a test's own clock.

import type { Server } from "bun";
import type { Sql } from "../../src/db/connect.ts";
import type { DeliveryContext } from "../../src/notify/deliver.ts";

export interface Received {
  body: string;
  headers: Record<string, string>;
  at: number;
}

export interface Answer {
  status?: number;
  /** Waits this long before answering (a receiver that does not answer in time). */
  delayMs?: number;
  body?: string;
  headers?: Record<string, string>;
}

export class Receiver {
  readonly requests: Received[] = [];
  private readonly server: Server<unknown>;
  private script: Answer[] = [];
  private fallback: Answer = { status: 200, body: "ok" };
  private readonly pending = new Set<ReturnType<typeof setTimeout>>();

  constructor() {
    this.server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (req) => {
        const answer = this.script.shift() ?? this.fallback;
        this.requests.push({ body: await req.text(), headers: Object.fromEntries(req.headers.entries()), at: Date.now() });
        if (answer.delayMs) await new Promise((r) => { const t = setTimeout(r, answer.delayMs); this.pending.add(t); });
        return new Response(answer.body ?? "", { status: answer.status ?? 200, headers: answer.headers });
      },
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.server.port}/hook`;
  }

  /** The next answers, in order; then `fallback` (200 by default). */
  answer(...answers: Answer[]): this {
    this.script = answers;
    return this;
  }

  always(answer: Answer): this {
    this.fallback = answer;
    return this;
  }

  reset(): void {
    this.requests.length = 0;
    this.script = [];
    this.fallback = { status: 200, body: "ok" };
  }

  stop(): void {
    for (const t of this.pending) clearTimeout(t);
    this.server.stop(true);
  }
}

/** A clock the test moves. */
export class Clock {
  constructor(public ms = Date.now()) {}
  now = (): Date => new Date(this.ms);
  advance(ms: number): void {
    this.ms += ms;
  }
}

export function contextFor(sql: Sql, clock: Clock, workerId = 1): DeliveryContext & { events: unknown[] } {
  const events: unknown[] = [];
  return {
    db: { run: (query) => query(sql) },
    workerId,
    now: clock.now,
    signal: new AbortController().signal,
    emit: (_e, data) => events.push(data),
    events,
  };
}

/** Ends a job as a worker would (final status, finished_at), in one UPDATE: the trigger's path. */
export async function endJob(sql: Sql, id: string, status: "finished" | "failed" | "cancelled", fields: { error?: string; result?: unknown } = {}): Promise<void> {
  await sql`UPDATE claude_jobs SET status = ${status}, finished_at = now(), error = ${fields.error ?? null},
            result = ${fields.result === undefined ? null : sql.json(fields.result as never)} WHERE id = ${id}`;
}
