// The handler contract: what a job kind provides, and the closed set of
// outcomes the executor maps to state changes (after Oban). Handlers never
// import the database; they get the job and an AbortSignal, and they report
// what happened by returning or throwing.

/** A claimed job as a handler sees it. */
export interface JobRecord {
  id: string;
  kind: string;
  queue: string;
  priority: number;
  status: JobStatus;
  payload: Record<string, unknown>;
  runAt: Date;
  attempts: number;
  maxAttempts: number;
  concurrencyKey: string | null;
  /** At most this many jobs with the same concurrency key run at once (1 unless set). */
  concurrencyLimit: number;
  /** While this job is in one of its unique states, no other job with the key can be enqueued. */
  uniqueKey: string | null;
  /** The recurring schedule that enqueued this job, and for which of its slots (null: not from a slot). */
  scheduleName: string | null;
  scheduleSlot: Date | null;
  workerId: number | null;
  error: string | null;
  errors: AttemptError[];
  result: Record<string, unknown> | null;
  cancelRequestedAt: Date | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** `waiting`: for the jobs it was enqueued after (dependencies) to finish. */
export type JobStatus = "waiting" | "queued" | "running" | "finished" | "failed" | "cancelled";
export const JOB_STATUSES: readonly JobStatus[] = ["waiting", "queued", "running", "finished", "failed", "cancelled"];

export interface AttemptError {
  attempt: number;
  at: string;
  message: string;
}

/** Why a running job's signal was aborted. The executor reads it to pick the outcome. */
export type AbortReason =
  | { kind: "cancelled"; message: string }
  | { kind: "timeout"; message: string }
  | { kind: "shutdown"; message: string }
  | { kind: "lost_ownership"; message: string };

export interface HandlerContext {
  job: JobRecord;
  /** Aborted on cancel, timeout, shutdown or lost ownership; `signal.reason` is an AbortReason. */
  signal: AbortSignal;
  /** Records progress for the job (merged into its result while it runs). Optional to call. */
  progress?: (patch: Record<string, unknown>) => void;
  /**
   * Reports a usage-limit event of the handler's account (a warning that the
   * limit is near, or the limit reached): the worker records it for every
   * worker of that account (src/worker/usage-pause.ts). Optional to call.
   */
  accountLimit?: (notice: AccountLimitNotice) => void;
}

/** A usage-limit event of an account (usageAccount), as a handler reports it. */
export interface AccountLimitNotice {
  accountKey: string;
  /** A readable name of the account: where its credential comes from; never a secret. */
  accountLabel: string;
  /** warning: the limit is near, jobs go on; rejected: reached, the account's jobs wait until resetsAt. */
  status: "warning" | "rejected";
  resetsAt: Date | null;
  rateLimitType: string | null;
  /** Shown with the pause ("waiting for the usage limit to reset at 20:00 (Europe/Paris)"). */
  reason: string;
  jobId: string;
}

/**
 * A handler returns the job's result (any JSON object, or nothing) when it
 * succeeds, and throws to fail the attempt. Throw `PermanentJobError` for a
 * failure that cannot succeed on retry, `RetryJobError` to choose the delay.
 * A handler that fails with a result worth keeping (a Claude run that reported
 * an error, say) puts it on the error as `result`.
 */
export type HandlerFn = (ctx: HandlerContext) => Promise<Record<string, unknown> | void>;

export interface HandlerDefinition {
  run: HandlerFn;
  /**
   * Checks and normalizes a payload at enqueue; throws InputError naming the
   * field. Returns the payload to store. Runs in the enqueuing process.
   */
  validate?: (payload: Record<string, unknown>) => Record<string, unknown>;
  /**
   * The job's concurrency key: at most concurrencyLimit (default one) jobs
   * with the same key run at a time, enforced by the database. Null: no limit.
   */
  concurrencyKey?: (payload: Record<string, unknown>) => string | null;
  /**
   * How many jobs with that key may run at once (default 1), enforced by the
   * database for any number of workers. An enqueue's own concurrencyLimit wins.
   */
  concurrencyLimit?: (payload: Record<string, unknown>) => number;
  /** Extra checks at worker start (a log folder that must be writable, say). */
  preflight?: () => Promise<void>;
  /**
   * Once its signal is aborted, the handler has stopped, with everything it
   * started, within this many ms (default 5000). The worker's liveness
   * protocol counts on it: rescuers wait at least this long, beyond the
   * worker's fence, before they take its jobs (src/worker/liveness.ts). A
   * handler that ignores its signal can run twice after a lost session.
   */
  stopWithinMs?: number;
  /**
   * The account whose usage limit holds this kind back (its key, see
   * AccountLimitNotice): while that account is paused, the worker claims no
   * job of this kind; other kinds go on.
   */
  usageAccount?: string;
}

export type Handler = HandlerFn | HandlerDefinition;

export function toDefinition(handler: Handler): HandlerDefinition {
  return typeof handler === "function" ? { run: handler } : handler;
}

/** A failure that cannot succeed on retry: the job fails at once. */
export class PermanentJobError extends Error {
  readonly result?: Record<string, unknown>;
  constructor(message: string, options?: { cause?: unknown; result?: Record<string, unknown> }) {
    super(message, options);
    this.name = "PermanentJobError";
    this.result = options?.result;
  }
}

/** A failed attempt that should wait at least `delaySeconds` before the retry (rate limits). */
export class RetryJobError extends Error {
  readonly delaySeconds: number;
  readonly result?: Record<string, unknown>;
  constructor(message: string, options: { delaySeconds: number; cause?: unknown; result?: Record<string, unknown> }) {
    super(message, options);
    this.name = "RetryJobError";
    this.delaySeconds = options.delaySeconds;
    this.result = options.result;
  }
}

/**
 * The attempt could not run for a reason outside the job (its account's
 * usage limit): back to the queue in `delayMs`, the attempt not counted, so
 * waiting never uses up its attempts. Carries the run's result (the session
 * to resume).
 */
export class ParkJobError extends Error {
  readonly delayMs: number;
  readonly result?: Record<string, unknown>;
  constructor(message: string, options: { delayMs: number; cause?: unknown; result?: Record<string, unknown> }) {
    super(message, options);
    this.name = "ParkJobError";
    this.delayMs = options.delayMs;
    this.result = options.result;
  }
}
