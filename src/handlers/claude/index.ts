// The `claude` job kind: runs the Claude Code CLI headless in the job's cwd,
// keeps its raw output in per-attempt log files, and reports the run's summary
// as the job's result. Reads no environment itself: options come from config.

import { mkdirSync, realpathSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseDuration } from "../../duration.ts";
import { InputError } from "../../errors.ts";
import type { AbortReason, HandlerContext, HandlerDefinition } from "../types.ts";
import { PermanentJobError } from "../types.ts";
import { attemptLogPaths, defaultLogDir, preflightLogDir, readFrom, tailFile } from "./logs.ts";
import { ClaudeRunError, decideOutcome, type ClaudeJobResult } from "./outcome.ts";
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
export { ClaudeRunError, type ClaudeJobResult } from "./outcome.ts";
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
  /** The clock of the prune pass (tests). */
  now?: () => Date;
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

  const definition: HandlerDefinition & { concurrencyLimit: (payload: Record<string, unknown>) => number } = {
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
      env: claudeEnv(env, { passEnv }), logDir, claudePath, killGraceMs, defaultTimeoutMs: options.defaultTimeoutMs, worktrees,
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

interface Resolved {
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
  let offset = 0;
  let reading = Promise.resolve();
  const feed = () => (reading = reading.then(async () => {
    offset = await readFrom(logs.stdoutPath, offset, (chunk) => reader.push(chunk)).catch(() => offset);
  }));
  let poll: ReturnType<typeof setInterval> | undefined;
  const run = await runInProcessGroup({
    command: o.claudePath, args: buildClaudeArgs(payload), cwd, env: o.env,
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
  const result: ClaudeJobResult = {
    ...summary, exitCode: run.exitCode, signal: run.signal, stdoutLog: logs.stdoutPath, stderrLog: logs.stderrPath,
  };
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
  return decideOutcome({
    result, stderrTail, attempt: job.attempts, stoppedBy: run.stoppedBy,
    abortMessage: abortMessage(signal), timeoutMs, permissionMode: payload.permission_mode,
    configDir: o.env.CLAUDE_CONFIG_DIR || (o.env.HOME ? join(o.env.HOME, ".claude") : undefined),
  });
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
