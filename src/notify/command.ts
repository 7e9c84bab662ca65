// `--notify-command`: a local command run for each job this worker ends
// (finished, failed, cancelled) or parks on a usage limit, with the event's JSON (the webhook body,
// src/notify/event.ts) on stdin: desktop notifications, scripts. It runs
// once the job's outcome is written, beside the jobs, never in their way:
// at most a few at a time, each killed (its whole process group) after its
// timeout, a failure logged and nothing more. It is a convenience of this
// host, not an outbox: a worker killed before the command runs does not run
// it later (webhooks are the durable way, src/notify/deliver.ts).

import { spawn } from "node:child_process";
import type { EventEmitter } from "node:events";
import type { Sql } from "../db/connect.ts";
import { jobGet } from "../db/jobs.ts";
import { webhookSettingGet } from "../db/webhooks.ts";
import { formatDuration } from "../duration.ts";
import { PUBLIC_URL_SETTING } from "./deliver.ts";
import { eventBody, type EventBody } from "./event.ts";

export const DEFAULT_NOTIFY_TIMEOUT_MS = 10_000;
/** Commands running at once; more wait, up to QUEUE_MAX, beyond which events are dropped (and said so). */
const RUNNING_MAX = 4;
const QUEUE_MAX = 100;
const STDERR_TAIL = 500;
/** The queue's own credentials and settings never reach the command. */
const HIDDEN_ENV = /^(?:DATABASE_URL$|PG|CLAUDE_JOBS_)/;

export interface NotifyCommandOptions {
  command: string;
  timeoutMs?: number;
  /** One line per failure (the worker's stderr). */
  log: (line: string) => void;
  env?: Record<string, string | undefined>;
}

/** What became of one run (for tests and logs). */
export interface NotifyRun {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
}

export class NotifyCommand {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly inFlight = new Set<Promise<NotifyRun>>();

  constructor(private readonly options: NotifyCommandOptions) {}

  /** Runs the command for an event; resolves when it has ended (it never rejects). */
  run(event: EventBody): Promise<NotifyRun> {
    if (this.waiting.length >= QUEUE_MAX) {
      this.options.log(`notify command: ${QUEUE_MAX} events waiting already; dropped ${event.event} of job ${event.job.id}`);
      return Promise.resolve({ exitCode: null, signal: null, timedOut: false });
    }
    const done = this.slot().then(() => this.spawnOne(event)).finally(() => {
      this.running--;
      this.waiting.shift()?.();
      this.inFlight.delete(done);
    });
    this.inFlight.add(done);
    return done;
  }

  /** Waits for the commands running or waiting now. */
  async drain(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }

  private slot(): Promise<void> {
    if (this.running < RUNNING_MAX) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(() => { this.running++; resolve(); }));
  }

  private spawnOne(event: EventBody): Promise<NotifyRun> {
    const timeoutMs = this.options.timeoutMs ?? DEFAULT_NOTIFY_TIMEOUT_MS;
    const env = Object.fromEntries(Object.entries(this.options.env ?? process.env).filter(([k, v]) => v !== undefined && !HIDDEN_ENV.test(k)));
    return new Promise((resolve) => {
      // Its own process group, so that the timeout kills what the shell started too.
      const child = spawn("/bin/sh", ["-c", this.options.command], {
        detached: true, stdio: ["pipe", "ignore", "pipe"],
        env: { ...env, CLAUDE_JOBS_EVENT: event.event, CLAUDE_JOBS_JOB_ID: event.job.id, CLAUDE_JOBS_JOB_STATUS: event.job.status },
      });
      let stderr = "";
      let timedOut = false;
      child.stderr?.on("data", (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL); });
      child.stdin?.on("error", () => {}); // a command that does not read its stdin
      child.stdin?.end(`${JSON.stringify(event)}\n`);
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup(child.pid);
      }, timeoutMs);
      const what = `notify command for ${event.event} of job ${event.job.id}`;
      child.on("error", (e) => {
        clearTimeout(timer);
        this.options.log(`${what} could not start: ${e.message}`);
        resolve({ exitCode: null, signal: null, timedOut: false });
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        const tail = stderr.trim() ? `: ${stderr.trim().split("\n").slice(-3).join(" | ")}` : "";
        if (timedOut) this.options.log(`${what} killed after ${formatDuration(timeoutMs)} (--notify-timeout)${tail}`);
        else if (code !== 0) this.options.log(`${what} failed (${signal ? `signal ${signal}` : `exit code ${code}`})${tail}`);
        resolve({ exitCode: code, signal, timedOut });
      });
    });
  }
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // gone already
  }
}

/** The Completion the worker emits after writing an outcome (job:finished, job:failed, job:cancelled, job:retry). */
interface Ended {
  id: string;
  status: string;
  error: string | null;
  result?: Record<string, unknown> | null;
}

/** A requeue that is the Claude handler's park: its result says so (result.usageLimit). */
function parkOf(d: Ended): Record<string, unknown> | null {
  const u = d.result?.usageLimit as Record<string, unknown> | undefined;
  if (!u || typeof u !== "object" || typeof u.parkedAt !== "string") return null;
  const detail: Record<string, unknown> = { resets_at: u.resetsAt, run_at: u.runAt, reason: u.reason, rate_limit_type: u.rateLimitType };
  return Object.fromEntries(Object.entries(detail).filter(([, v]) => v !== undefined && v !== null));
}

/**
 * Runs the command for every job the worker ends or parks, once its outcome
 * is written. The job's row (kind, queue, result) is read from the pool;
 * `publicUrl` null: the one the dashboard stored, read once.
 */
export function attachNotifyCommand(worker: EventEmitter, sql: Sql, command: NotifyCommand, publicUrl: string | null, log: (line: string) => void): void {
  let storedUrl: Promise<string | null> | null = null;
  const linkBase = () => publicUrl !== null ? Promise.resolve(publicUrl)
    : (storedUrl ??= webhookSettingGet(sql, PUBLIC_URL_SETTING).catch(() => null));
  const onEnd = (status: string) => (d: Ended) => {
    const park = status === "retry" ? parkOf(d) : null;
    if (status === "retry" && park === null) return; // a plain retry is no event
    void (async () => {
      try {
        const [job, base] = await Promise.all([jobGet(sql, d.id), linkBase()]);
        const facts = {
          jobId: d.id, event: park ? "parked" : status, kind: job?.kind ?? "unknown", queue: job?.queue ?? "unknown",
          status: park ? "queued" : status, error: d.error, occurredAt: job?.finishedAt ?? new Date(), detail: park ?? {},
        };
        await command.run(eventBody(facts, job, base));
      } catch (e: unknown) {
        log(`notify command for job ${d.id}: ${(e as Error).message ?? e}`);
      }
    })();
  };
  for (const status of ["finished", "failed", "cancelled", "retry"]) worker.on(`job:${status}`, onEnd(status));
}
