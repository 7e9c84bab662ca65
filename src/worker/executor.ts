// Runs one claimed job through its handler and turns what happened into a
// Completion: the closed set of outcomes (finished, failed, retried,
// cancelled, put back) that the completer writes. Never touches the database.

import type { Completion } from "../db/jobs.ts";
import type { AbortReason, AccountLimitNotice, HandlerDefinition, JobRecord } from "../handlers/types.ts";
import { ParkJobError, PermanentJobError, RetryJobError } from "../handlers/types.ts";
import { errorMessage } from "../errors.ts";
import { formatDuration } from "../duration.ts";
import { backoffMs } from "./backoff.ts";

export interface RunningJob {
  job: JobRecord;
  controller: AbortController;
  done: Promise<Completion>;
}

export function abort(running: RunningJob, reason: AbortReason): void {
  if (!running.controller.signal.aborted) running.controller.abort(reason);
}

/** Starts the job; `done` settles (never rejects) with the outcome to write. */
export function execute(
  job: JobRecord,
  handler: HandlerDefinition | undefined,
  options: {
    timeoutMs: number | null;
    progress?: (patch: Record<string, unknown>) => void;
    accountLimit?: (notice: AccountLimitNotice) => void;
  },
): RunningJob {
  const { timeoutMs } = options;
  const controller = new AbortController();
  const timer = timeoutMs === null ? null : setTimeout(
    () => controller.abort({ kind: "timeout", message: `timed out after ${formatDuration(timeoutMs)}` } satisfies AbortReason),
    timeoutMs,
  );
  const done = (async (): Promise<Completion> => {
    try {
      if (!handler) throw new PermanentJobError(`no handler is registered for kind "${job.kind}" in this worker`);
      const result = await handler.run({ job, signal: controller.signal, progress: options.progress, accountLimit: options.accountLimit });
      return outcome(job, "finished", null, result ?? null);
    } catch (e: unknown) {
      return failure(job, e, controller.signal);
    } finally {
      if (timer) clearTimeout(timer);
    }
  })();
  return { job, controller, done };
}

function outcome(
  job: JobRecord,
  status: Completion["status"],
  error: string | null,
  result: Record<string, unknown> | null,
  extra: Partial<Completion> = {},
): Completion {
  return { id: job.id, attempt: job.attempts, status, error, result, retryInMs: 0, refund: false, ...extra };
}

function failure(job: JobRecord, e: unknown, signal: AbortSignal): Completion {
  // Any error may carry the attempt's result (a Claude run that failed still has its summary).
  const carried = e !== null && typeof e === "object" ? (e as { result?: unknown }).result : undefined;
  const result = carried !== null && typeof carried === "object" ? (carried as Record<string, unknown>) : null;
  const reason = signal.aborted ? (signal.reason as AbortReason) : null;
  if (reason?.kind === "cancelled") return outcome(job, "cancelled", reason.message, result);
  if (reason?.kind === "shutdown" || reason?.kind === "lost_ownership") {
    // Not the job's fault (the worker stops, or fenced itself off when it
    // could not prove its lock): back to the queue, due now, the attempt not
    // counted. Written only if the attempt is still ours (fenced completion).
    return outcome(job, "queued", reason.message, result, { refund: true });
  }
  // Parked (a usage limit): waiting is not the job's failure, so the attempt is not counted.
  if (!reason && e instanceof ParkJobError) return outcome(job, "queued", e.message, result, { refund: true, retryInMs: e.delayMs });
  const message = reason ? reason.message : errorMessage(e) || "handler failed without a message";
  if (e instanceof PermanentJobError || job.attempts >= job.maxAttempts) return outcome(job, "failed", message, result);
  const delay = Math.max(backoffMs(job.attempts), e instanceof RetryJobError ? e.delaySeconds * 1000 : 0);
  return outcome(job, "queued", message, result, { retryInMs: delay });
}
