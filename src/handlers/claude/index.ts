// The `claude` job kind: runs the Claude Code CLI headless in the job's cwd,
// keeps its raw output in per-attempt log files, and reports the run's summary
// as the job's result. Reads no environment itself: options come from config.

import { appendFileSync, mkdirSync, realpathSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseDuration } from "../../duration.ts";
import { InputError } from "../../errors.ts";
import type { AbortReason, HandlerContext, HandlerDefinition } from "../types.ts";
import { PermanentJobError } from "../types.ts";
import { attemptLogPaths, defaultLogDir, preflightLogDir, readFrom, tailFile } from "./logs.ts";
import { ClaudeRunError, ClaudeUsageLimitError, decideOutcome, sessionMissing, type ClaudeJobResult } from "./outcome.ts";
import { accountKeyOf, DEFAULT_CONTINUE_PROMPT, DEFAULT_USAGE_LIMIT_WAIT_MS, type AccountKey } from "./usage-limit.ts";
import {
  buildClaudeArgs, claudeConcurrencyKey, claudeConcurrencyLimit, DEFAULT_WORKTREE_LIMIT, validateClaudePayload, type ClaudePayload,
} from "./payload.ts";
import { runInProcessGroup } from "./process.ts";
import { claudeEnv, passEnvProblem } from "./env.ts";
import { applyEvent, emptySummary, EventLineReader } from "./stream.ts";
import { defaultWorktreeDir } from "../../git/worktree.ts";
import { finishWorktree, markEnded, prepareWorktree, pruneEndedWorktrees, type PreparedWorktree, type WorktreeSettings } from "./worktree.ts";

export { listLogFiles, defaultLogDir, type LogFile } from "./logs.ts";
export { claudeEnv, passEnvDenied, passEnvProblem, type ClaudeEnvOptions } from "./env.ts";
export { ClaudeRunError, ClaudeUsageLimitError, type ClaudeJobResult } from "./outcome.ts";
export {
  accountKeyOf, DEFAULT_CONTINUE_PROMPT, DEFAULT_USAGE_LIMIT_WAIT_MS, formatResetTime, recognizeUsageLimit, type AccountKey, type UsageLimit,
} from "./usage-limit.ts";
export {
  buildClaudeArgs, claudeConcurrencyKey, claudeConcurrencyLimit, DEFAULT_WORKTREE_LIMIT, validateClaudePayload, type ClaudePayload,
} from "./payload.ts";
export { pruneEndedWorktrees, type WorktreeResult } from "./worktree.ts";

/** How long the worktree of an ended job is kept by default (its branch stays after). */
export const DEFAULT_WORKTREE_TTL_MS = 7 * 24 * 3600_000;
/** Prune passes run at most this often per handler (before a worktree is made, and at preflight). */
const PRUNE_EVERY_MS = 60_000;

/** How often a run's log is read for its session id until it appears. */
const SESSION_POLL_MS = 200;

export interface ClaudeHandlerOptions {
  /** The CLI to run: a name looked up on the child's PATH, or a path. Default "claude". */
  claudePath?: string;
  /** Where the per-attempt logs go. Default $HOME/.local/shared/claude-jobs/logs (HOME from `env`). */
  logDir?: string;
  /** Stop a run after this long when its payload sets no timeout. Default: no limit. */
  defaultTimeoutMs?: number;
  /** Between SIGTERM and SIGKILL when stopping a run. Default 10s. */
  killGraceMs?: number;
  /**
   * The worker's environment, which the child's is taken from: only the
   * allow-list in env.ts (PATH without this package's node_modules/.bin,
   * HOME, locale, proxies, CA settings, XDG_*, IS_SANDBOX, ANTHROPIC_* and
   * CLAUDE_* but never CLAUDE_JOBS_*) and `passEnv`. Default process.env.
   */
  env?: Record<string, string | undefined>;
  /** More variables the CLI gets: names, or prefixes ending in `*` (`AWS_*`). CLAUDE_JOBS_* never pass. */
  passEnv?: string[];
  /** Where job worktrees go. Default $HOME/.local/shared/claude-jobs/worktrees, next to the logs. Never inside a repository. */
  worktreeDir?: string;
  /** Worktrees of jobs that ended this long ago are removed (their branches stay). Default 7 days. */
  worktreeTtlMs?: number;
  /**
   * How many worktree jobs of one repository run at once: the limit of their
   * shared concurrency key, set at enqueue when the Queue was given this
   * handler (an explicit concurrency limit on the job wins). Default 3.
   */
  worktreeLimit?: number;
  /** The clock of the prune pass and of usage limits ("resets 8pm" is the next 20:00 after it; tests). */
  now?: () => Date;
  /** How long a job waits on a usage limit when claude says nothing of when it resets. Default 30 minutes. */
  usageLimitWaitMs?: number;
  /** What a job parked on a usage limit is told when it resumes its session. Default "Continue where you left off." */
  continuePrompt?: string;
  /**
   * A name for the Claude account, when its environment cannot tell it from
   * another's (two API keys in the same variable and HOME on two hosts): it
   * replaces the credential's source in the account key. Default: derived.
   */
  account?: string;
  /** The jitter's randomness, in [0, 1) (tests). */
  random?: () => number;
}

export function createClaudeHandler(options: ClaudeHandlerOptions = {}): HandlerDefinition {
  const env = options.env ?? process.env;
  const logDir = options.logDir ?? defaultLogDir(env);
  const claudePath = options.claudePath ?? "claude";
  const killGraceMs = options.killGraceMs ?? 10_000;
  const passEnv = [...(options.passEnv ?? [])];
  const problem = passEnvProblem(passEnv);
  if (problem) throw new InputError("passEnv", problem);
  const worktreeLimit = options.worktreeLimit ?? DEFAULT_WORKTREE_LIMIT;
  if (!Number.isInteger(worktreeLimit) || worktreeLimit < 1 || worktreeLimit > 10000) {
    throw new InputError("worktreeLimit", `must be an integer from 1 to 10000; got ${JSON.stringify(options.worktreeLimit)}`);
  }
  const worktrees = new WorktreeKeeper(resolve(options.worktreeDir ?? defaultWorktreeDir(env)), options.worktreeTtlMs ?? DEFAULT_WORKTREE_TTL_MS,
    options.now ?? (() => new Date()), env);

  const usageLimitWaitMs = options.usageLimitWaitMs ?? DEFAULT_USAGE_LIMIT_WAIT_MS;
  if (!Number.isFinite(usageLimitWaitMs) || usageLimitWaitMs <= 0) {
    throw new InputError("usageLimitWaitMs", `must be a positive number of milliseconds; got ${JSON.stringify(options.usageLimitWaitMs)}`);
  }
  const continuePrompt = options.continuePrompt ?? DEFAULT_CONTINUE_PROMPT;
  if (continuePrompt.trim() === "" || continuePrompt.includes("\0")) {
    throw new InputError("continuePrompt", "must be a non-empty string without NUL characters");
  }
  // The account of the environment the CLI gets (its allow-list), as it is now.
  const account = accountKeyOf(claudeEnv(env, { passEnv }), options.account);
  const usage: UsageSettings = {
    account, fallbackMs: usageLimitWaitMs, continuePrompt, now: options.now ?? (() => new Date()), random: options.random ?? Math.random,
  };

  const definition: HandlerDefinition & { concurrencyLimit: (payload: Record<string, unknown>) => number } = {
    usageAccount: account.key,
    validate: (payload) => ({ ...validateClaudePayload(payload) }),
    concurrencyKey: claudeConcurrencyKey,
    concurrencyLimit: (payload) => claudeConcurrencyLimit(payload, worktreeLimit),
    preflight: async () => {
      await preflightLogDir(logDir);
      await worktrees.prune(true);
    },
    // SIGTERM to the process group, SIGKILL after the grace, then the exit is reaped.
    stopWithinMs: killGraceMs + 2000,
    // The child's environment is built at each run (from process.env as it is then, by default).
    run: (ctx) => runClaude(ctx, {
      env: claudeEnv(env, { passEnv }), logDir, claudePath, killGraceMs, defaultTimeoutMs: options.defaultTimeoutMs, worktrees, usage,
    }),
  };
  return definition;
}

/** The worktree folder and its prune pass, at most once a minute. */
class WorktreeKeeper {
  private lastPrune = -Infinity;
  private root: string | undefined;
  constructor(
    private readonly configuredRoot: string,
    readonly ttlMs: number,
    readonly now: () => Date,
    readonly gitEnv: Record<string, string | undefined>,
  ) {}

  /** The root, made private (0700: worktrees hold copied secrets such as .env) and resolved through symlinks, as git reports paths. */
  rootDir(): string {
    if (this.root === undefined) {
      mkdirSync(this.configuredRoot, { recursive: true, mode: 0o700 });
      this.root = realpathSync(this.configuredRoot);
    }
    return this.root;
  }

  async prune(force = false): Promise<void> {
    const now = this.now();
    if (!force && now.getTime() - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now.getTime();
    await pruneEndedWorktrees(this.rootDir(), this.ttlMs, now, this.gitEnv).catch(() => {});
  }

  settings(childEnv: Record<string, string | undefined>, killGraceMs: number): WorktreeSettings {
    return { root: this.rootDir(), gitEnv: this.gitEnv, childEnv, killGraceMs, now: this.now };
  }
}

interface UsageSettings {
  account: AccountKey;
  fallbackMs: number;
  continuePrompt: string;
  now: () => Date;
  random: () => number;
}

interface Resolved {
  usage: UsageSettings;
  env: Record<string, string | undefined>;
  logDir: string;
  claudePath: string;
  killGraceMs: number;
  defaultTimeoutMs?: number;
  worktrees: WorktreeKeeper;
}

async function runClaude(ctx: HandlerContext, o: Resolved): Promise<ClaudeJobResult> {
  const { job, signal } = ctx;
  const payload = storedPayload(job.payload);
  if (signal.aborted) throw new Error(abortMessage(signal));
  const timeoutMs = payload.timeout !== undefined ? parseDuration("payload.timeout", payload.timeout) : o.defaultTimeoutMs;
  const logs = await attemptLogPaths(o.logDir, job.id, new Date());
  if (!payload.worktree) return runCli(ctx, o, payload, timeoutMs, logs, undefined);
  const settings = o.worktrees.settings(o.env, o.killGraceMs);
  await o.worktrees.prune();
  // Shown while it runs (the job page, discard of a job that dies): the end fills in the rest.
  const shown = (w: { rootJobId: string; repository: string; path: string; branch: string; baseCommit: string }) => {
    try {
      ctx.progress?.({ worktree: { ...w, headCommit: null, changed: null, filesChanged: null, insertions: null, deletions: null, committedLeftovers: null } });
    } catch {
      // progress is best effort
    }
  };
  const wt = await prepareWorktree({ job, payload, stderrLog: logs.stderrPath, stdoutLog: logs.stdoutPath, signal, timeoutMs }, settings, shown);
  try {
    return await runCli(ctx, o, payload, timeoutMs, logs, { prepared: wt, settings });
  } finally {
    await markEnded(wt, o.worktrees.now()).catch(() => {});
  }
}

async function runCli(
  ctx: HandlerContext, o: Resolved, payload: ClaudePayload, timeoutMs: number | undefined,
  logs: { stdoutPath: string; stderrPath: string }, wt: { prepared: PreparedWorktree; settings: WorktreeSettings } | undefined,
  fresh = false,
): Promise<ClaudeJobResult> {
  const { job, signal } = ctx;
  const cwd = wt?.prepared.cwd ?? payload.cwd;
  // The stderr log may hold the worktree's setup output: the CLI's failure is told from what comes after.
  const stderrStart = Bun.file(logs.stderrPath).size;

  const summary = emptySummary();
  const reader = new EventLineReader((event) => {
    if (applyEvent(summary, event)) {
      try {
        ctx.progress?.({ sessionId: summary.sessionId });
      } catch {
        // progress is best effort; the run goes on
      }
    }
  });
  // The CLI writes its stdout straight to the log file; we read the file. While
  // it runs, only until the session id is known (the first line), so a run
  // printing gigabytes costs the worker nothing then; the rest once it exits.
  // From the end: a run again in the same attempt (a parked session not on this host) appends.
  let offset = Bun.file(logs.stdoutPath).size;
  let reading = Promise.resolve();
  const feed = () => (reading = reading.then(async () => {
    offset = await readFrom(logs.stdoutPath, offset, (chunk) => reader.push(chunk)).catch(() => offset);
  }));
  let poll: ReturnType<typeof setInterval> | undefined;
  // A job parked on a usage limit resumes the session it had, told to go on.
  const continued = fresh ? null : parkedSession(job.result);
  const args = buildClaudeArgs(continued === null ? payload : { ...payload, resume: continued, prompt: o.usage.continuePrompt });
  const run = await runInProcessGroup({
    command: o.claudePath, args, cwd, env: o.env,
    stdoutPath: logs.stdoutPath, stderrPath: logs.stderrPath, signal, timeoutMs, killGraceMs: o.killGraceMs,
    marker: { jobId: job.id },
    onSpawn: () => {
      poll = setInterval(() => (summary.sessionId !== null ? clearInterval(poll) : void feed()), SESSION_POLL_MS);
    },
  });
  clearInterval(poll);
  await feed();
  reader.end();

  if (run.spawnError) throw spawnFailure(run.spawnError, o, cwd);
  // Sessions are kept per user and HOME: a parked job claimed on another host
  // of the account cannot resume its session there, so it starts over.
  if (continued !== null && !run.stoppedBy && sessionMissing(summary)) {
    try {
      appendFileSync(logs.stderrPath, `[claude-jobs] the session ${continued} the job was parked with is not on this host; running its own prompt again\n`);
    } catch {
      // the note is for people
    }
    return runCli(ctx, o, payload, timeoutMs, logs, wt, true);
  }
  const result: ClaudeJobResult = {
    ...summary, exitCode: run.exitCode, signal: run.signal, stdoutLog: logs.stdoutPath, stderrLog: logs.stderrPath,
  };
  if (continued !== null) result.continuedSession = continued;
  if (summary.rateLimitWarning) reportWarning(ctx, o.usage, summary.rateLimitWarning, result);
  const stderrTail = await tailFile(logs.stderrPath, 20, 8192, stderrStart);
  const succeeded = run.exitCode === 0 && !run.stoppedBy && summary.subtype !== null && !summary.isError;
  // A worker that lost its database session leaves the worktree as it is: the
  // job may be rescued onto this host's same worktree at any moment, and the
  // attempt that runs next commits what is there.
  const lostOwnership = (signal.reason as AbortReason | undefined)?.kind === "lost_ownership";
  if (wt && !lostOwnership) {
    try {
      result.worktree = await finishWorktree(wt.prepared,
        { jobId: job.id, attempt: job.attempts, resultText: summary.result, failed: !succeeded }, wt.settings);
    } catch (e: unknown) {
      // The agent's work is still in the worktree folder, uncommitted; a retry commits it.
      const message = `could not commit or measure the job's worktree ${wt.prepared.path}: ${(e as Error).message}`;
      if (succeeded) throw new ClaudeRunError(message, result);
      result.worktreeError = message;
    }
  }
  const now = o.usage.now();
  try {
    return decideOutcome({
      result, stderrTail, attempt: job.attempts, stoppedBy: run.stoppedBy,
      abortMessage: abortMessage(signal), timeoutMs, permissionMode: payload.permission_mode,
      configDir: o.env.CLAUDE_CONFIG_DIR || (o.env.HOME ? join(o.env.HOME, ".claude") : undefined),
      usage: { now, fallbackMs: o.usage.fallbackMs, random: o.usage.random },
    });
  } catch (e: unknown) {
    if (e instanceof ClaudeUsageLimitError) parkOnUsageLimit(ctx, o.usage, e, now);
    throw e;
  }
}

/**
 * The session a job parked on a usage limit left to resume: its previous
 * attempt's result says so (usageLimit.sessionId). Null otherwise.
 */
export function parkedSession(result: Record<string, unknown> | null): string | null {
  const parked = result?.usageLimit as { sessionId?: unknown } | undefined;
  const id = parked && typeof parked === "object" ? parked.sessionId : undefined;
  return typeof id === "string" && /^[0-9a-f-]{36}$/i.test(id) ? id : null;
}

/** Keeps the park on the result (shown by show and the job page; read by the next attempt) and pauses the account. */
function parkOnUsageLimit(ctx: HandlerContext, usage: UsageSettings, e: ClaudeUsageLimitError, now: Date): void {
  const reason = e.reason;
  e.result.usageLimit = {
    accountKey: usage.account.key, accountLabel: usage.account.label, resetsAt: e.limit.resetsAt.toISOString(), source: e.limit.source,
    zone: e.limit.zone, rateLimitType: e.limit.rateLimitType, reason, parkedAt: now.toISOString(),
    runAt: new Date(now.getTime() + e.delayMs).toISOString(), sessionId: e.result.sessionId,
  };
  try {
    ctx.accountLimit?.({
      accountKey: usage.account.key, accountLabel: usage.account.label, status: "rejected", resetsAt: e.limit.resetsAt,
      rateLimitType: e.limit.rateLimitType, reason, jobId: ctx.job.id,
    });
  } catch {
    // the pause is best effort: the job is parked whatever the worker does with it
  }
}

/** An allowed_warning: the limit is near. On the result, and to the worker for the overview. */
function reportWarning(ctx: HandlerContext, usage: UsageSettings, w: NonNullable<ClaudeJobResult["rateLimitWarning"]>, result: ClaudeJobResult): void {
  const at = usage.now();
  result.rateLimitWarning = { ...w, at: at.toISOString() };
  try {
    ctx.accountLimit?.({
      accountKey: usage.account.key, accountLabel: usage.account.label, status: "warning",
      resetsAt: w.resetsAt === null ? null : new Date(w.resetsAt * 1000), rateLimitType: w.rateLimitType,
      reason: "the usage limit is near", jobId: ctx.job.id,
    });
  } catch {
    // best effort
  }
}

/** The payload as stored, re-checked: a directory removed since enqueue cannot come back by retrying. */
function storedPayload(payload: Record<string, unknown>): ClaudePayload {
  try {
    return validateClaudePayload(payload, { git: false });
  } catch (e: unknown) {
    if (!(e instanceof InputError)) throw e;
    const fix = e.field === "payload.cwd" || e.field.startsWith("payload.add_dirs")
      ? "Recreate the directory and retry the job, or enqueue it again with an existing directory."
      : "Enqueue the job again with a valid payload.";
    throw new PermanentJobError(`the job's payload cannot run: ${e.message}. ${fix}`, { cause: e });
  }
}

function spawnFailure(e: NodeJS.ErrnoException, o: Omit<Resolved, "worktrees">, cwd: string): Error {
  if (e.code === "ENOENT" && !isDirectory(cwd)) {
    return new PermanentJobError(`the job's cwd ${cwd} no longer exists. Recreate it and retry the job.`, { cause: e });
  }
  if (e.code === "ENOENT" || e.code === "EACCES") {
    const where = o.claudePath.includes("/") ? o.claudePath : `${o.claudePath} (looked up on PATH=${o.env.PATH ?? ""})`;
    return new PermanentJobError(
      `cannot run the Claude Code CLI: tried ${where}: ${e.code === "ENOENT" ? "not found" : "not executable"}. ` +
        "Install it (npm install -g @anthropic-ai/claude-code) or set the worker's claude path option to the executable.",
      { cause: e },
    );
  }
  return new Error(`cannot start ${o.claudePath}: ${e.message}`, { cause: e });
}

function abortMessage(signal: AbortSignal): string {
  const reason = signal.reason as AbortReason | Error | undefined;
  if (reason && typeof reason === "object" && typeof reason.message === "string") return reason.message;
  return "the job was aborted";
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
