// Engine test helpers: workers with small intervals that are always stopped,
// a job's row as the database has it, waiting for a worker's events, and
// child processes (a worker fixture, the CLI) with their output collected.

import { resolve } from "node:path";
import type { Subprocess } from "bun";
import type { Sql } from "../../src/db/connect.ts";
import { Worker, type WorkerOptions } from "../../src/worker/worker.ts";
import type { JobRecord } from "../../src/handlers/types.ts";
import { jobGet } from "../../src/db/jobs.ts";

export const REPO = resolve(import.meta.dir, "../..");

/** Intervals small enough that a whole suite of worker tests runs in seconds. */
export const FAST = { pollIntervalMs: 100, rescueIntervalMs: 200, lockProbeIntervalMs: 100 } as const;

/** Starts workers and remembers them, so afterEach can stop every one. */
export class WorkerPool {
  private readonly workers: Worker[] = [];
  readonly errors: unknown[] = [];

  async start(options: WorkerOptions): Promise<Worker> {
    const worker = new Worker({ ...FAST, ...options });
    // An EventEmitter "error" without a listener throws; tests that cut
    // connections expect some, and read them here when they care.
    worker.on("error", (e: unknown) => this.errors.push(e));
    this.workers.push(worker);
    await worker.start();
    return worker;
  }

  async stopAll(timeoutMs = 1000): Promise<void> {
    const all = this.workers.splice(0);
    await Promise.all(all.map((w) => w.stop({ timeoutMs }).catch(() => {})));
  }
}

export async function jobRow(sql: Sql, id: string): Promise<JobRecord> {
  const job = await jobGet(sql, id);
  if (!job) throw new Error(`job ${id} is not in the database`);
  return job;
}

/** Resolves with the first event `name` whose argument passes `match`; rejects after a deadline. */
export function nextEvent<T = unknown>(
  emitter: { on(n: string, f: (a: T) => void): unknown; off(n: string, f: (a: T) => void): unknown },
  name: string,
  match: (arg: T) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      emitter.off(name, listener);
      reject(new Error(`timed out after ${timeoutMs}ms waiting for event ${name}`));
    }, timeoutMs);
    const listener = (arg: T) => {
      if (!match(arg)) return;
      clearTimeout(timer);
      emitter.off(name, listener);
      resolvePromise(arg);
    };
    emitter.on(name, listener);
  });
}

/** A promise with its resolve exposed: a handler waits on it until the test lets it go. */
export function gate<T = void>() {
  let open!: (value: T) => void;
  const promise = new Promise<T>((r) => (open = r));
  return { promise, open };
}

/** Resolves when the signal aborts, with its reason. */
export function aborted(signal: AbortSignal): Promise<unknown> {
  return new Promise((r) => {
    if (signal.aborted) r(signal.reason);
    else signal.addEventListener("abort", () => r(signal.reason), { once: true });
  });
}

/** A child process whose stdout and stderr are collected as they arrive. */
export interface Child {
  proc: Subprocess<"pipe" | "ignore", "pipe", "pipe">;
  stdout(): string;
  stderr(): string;
  exited: Promise<number>;
}

export function spawnChild(cmd: string[], env: Record<string, string | undefined>, stdin?: string): Child {
  const proc = Bun.spawn(cmd, {
    cwd: REPO, env: env as Record<string, string>, stdout: "pipe", stderr: "pipe",
    stdin: stdin === undefined ? "ignore" : "pipe",
  }) as Child["proc"];
  if (stdin !== undefined) {
    const sink = proc.stdin as unknown as { write(s: string): void; end(): void };
    sink.write(stdin);
    sink.end();
  }
  let out = "";
  let err = "";
  const drain = async (stream: ReadableStream<Uint8Array>, add: (s: string) => void) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) add(decoder.decode(chunk, { stream: true }));
  };
  const outDone = drain(proc.stdout, (s) => (out += s));
  const errDone = drain(proc.stderr, (s) => (err += s));
  const exited = proc.exited.then(async (code) => {
    await Promise.all([outDone, errDone]);
    return code;
  });
  return { proc, stdout: () => out, stderr: () => err, exited };
}
