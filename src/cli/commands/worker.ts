// `claude-jobs worker`: run jobs until SIGINT/SIGTERM. The first signal stops
// claiming and lets running jobs finish (up to --shutdown-timeout), then puts
// the rest back; a second signal stops them at once. A PostgreSQL that is not
// up yet is waited for (a signal meanwhile exits 0); one that refuses the
// login or lacks the database fails at once.

import { MAX_INTERVAL_MS, MAX_TIMEOUT_MS, parseDuration } from "../../duration.ts";
import { InputError } from "../../errors.ts";
import { validateQueueName } from "../../queue/validate.ts";
import { Worker } from "../../worker/worker.ts";
import { HandlerRegistry } from "../../handlers/registry.ts";
import { createClaudeHandler, formatResetTime, passEnvDenied, passEnvProblem } from "../../handlers/claude/index.ts";
import { openDatabase, StoppedWaiting, type CliContext, type OpenDatabase, type OpenOptions } from "../context.ts";
import { LOG_DIR_OPTION, resolveLogDir } from "../log-dir.ts";
import { RETAIN_FAILED_OPTION, RETAIN_FINISHED_OPTION } from "../retention-options.ts";
import { builtinMaintenance } from "../../worker/maintenance.ts";
import { parseRetention, type CleanupReport, type RetentionPolicy } from "../../worker/retention.ts";
import { DATABASE_URL_OPTION, type CommandSpec, type ParsedCommand } from "../options.ts";
import { attachNotify, NOTIFY_OPTIONS, notifySettings, type NotifySettings } from "../notify-options.ts";

export const workerOptions = {
  concurrency: { type: "string", description: "jobs run at once by this worker", env: "CLAUDE_JOBS_CONCURRENCY", default: "10" },
  queues: { type: "string", description: "queues served, in order (comma-separated), or * for all", env: "CLAUDE_JOBS_QUEUES", default: "*" },
  "poll-interval": { type: "string", description: "how often to poll when no NOTIFY arrives", env: "CLAUDE_JOBS_POLL_INTERVAL", default: "5s" },
  "rescue-interval": { type: "string", description: "how often to look for jobs of dead workers", env: "CLAUDE_JOBS_RESCUE_INTERVAL", default: "15s" },
  "shutdown-timeout": { type: "string", description: "on SIGINT/SIGTERM, how long running jobs may finish", env: "CLAUDE_JOBS_SHUTDOWN_TIMEOUT", default: "30s" },
  "job-timeout": { type: "string", description: "default wall-clock limit of a Claude job (payload timeout wins)", env: "CLAUDE_JOBS_JOB_TIMEOUT" },
  "kill-grace": { type: "string", description: "between SIGTERM and SIGKILL when stopping a job's processes", env: "CLAUDE_JOBS_KILL_GRACE", default: "10s" },
  "claude-path": { type: "string", description: "the Claude Code CLI to run", env: "CLAUDE_JOBS_CLAUDE_PATH", default: "claude" },
  "pass-env": {
    type: "string",
    description: "more of this environment for the Claude CLI, beyond its allow-list: names or prefixes like AWS_* " +
      "(comma-separated, or the flag repeated); DATABASE_URL, PG* and CLAUDE_JOBS_* never pass",
    env: "CLAUDE_JOBS_PASS_ENV",
    multiple: true,
  },
  "log-dir": LOG_DIR_OPTION,
  "retain-finished": RETAIN_FINISHED_OPTION,
  "retain-failed": RETAIN_FAILED_OPTION,
  "worktree-dir": {
    type: "string", description: "folder for the git worktrees of worktree jobs (never inside a repository)",
    env: "CLAUDE_JOBS_WORKTREE_DIR", default: "~/.local/shared/claude-jobs/worktrees",
  },
  "worktree-ttl": {
    type: "string", description: "remove a worktree this long after its job ended (its branch stays)",
    env: "CLAUDE_JOBS_WORKTREE_TTL", default: "7d",
  },
  "usage-limit-wait": {
    type: "string", description: "how long a Claude job parked on a usage limit waits when claude gives no reset time",
    env: "CLAUDE_JOBS_USAGE_LIMIT_WAIT", default: "30m",
  },
  "continue-prompt": {
    type: "string", description: "the prompt a job parked on a usage limit resumes its session with",
    env: "CLAUDE_JOBS_CONTINUE_PROMPT", default: "Continue where you left off.",
  },
  "claude-account": {
    type: "string", description: "a name for the Claude account, when workers' credential source and config folder cannot tell accounts apart (part of the usage-limit account key)",
    env: "CLAUDE_JOBS_CLAUDE_ACCOUNT",
  },
  ...NOTIFY_OPTIONS,
} as const satisfies CommandSpec["options"];

export const spec: CommandSpec = {
  name: "worker",
  summary: "Run queued jobs until stopped (SIGINT/SIGTERM: graceful; twice: immediate).",
  usage: "claude-jobs worker [--concurrency=10] [--queues=high,default,low|*] [--poll-interval=5s] [--pass-env=NAME,PREFIX_*]",
  options: { ...workerOptions, "database-url": DATABASE_URL_OPTION },
};

export interface WorkerSettings {
  concurrency: number;
  queues: string[];
  pollIntervalMs: number;
  rescueIntervalMs: number;
  shutdownTimeoutMs: number;
  jobTimeoutMs: number | undefined;
  killGraceMs: number;
  claudePath: string;
  logDir: string;
  /** Variables the Claude CLI gets besides its allow-list (src/handlers/claude/env.ts). */
  passEnv: string[];
  /** How long ended jobs are kept before this worker's retention task deletes them (src/worker/retention.ts). */
  retention: RetentionPolicy;
  worktreeDir: string;
  worktreeTtlMs: number;
  usageLimitWaitMs: number;
  continuePrompt: string;
  claudeAccount: string | undefined;
  /** Webhook deliveries and the notify command (src/cli/notify-options.ts). */
  notify: NotifySettings;
}

/** Intervals: at least 1ms (0 would spin), at most a week (see MAX_INTERVAL_MS). */
const INTERVAL = { min: 1, max: MAX_INTERVAL_MS };

export function workerSettings(ctx: CliContext, values: ParsedCommand["values"]): WorkerSettings {
  const concurrency = String(values.concurrency);
  if (!/^\d+$/.test(concurrency) || Number(concurrency) < 1 || Number(concurrency) > 10000) {
    throw new InputError("--concurrency", `must be an integer from 1 to 10000; got ${JSON.stringify(concurrency)}`);
  }
  const queues = String(values.queues).split(",").map((q) => q.trim()).filter(Boolean);
  if (queues.length === 0) throw new InputError("--queues", "must name at least one queue, or *");
  for (const q of queues) if (q !== "*") validateQueueName("--queues", q);
  return {
    concurrency: Number(concurrency),
    queues,
    pollIntervalMs: parseDuration("--poll-interval", values["poll-interval"] as string, INTERVAL),
    rescueIntervalMs: parseDuration("--rescue-interval", values["rescue-interval"] as string, INTERVAL),
    shutdownTimeoutMs: parseDuration("--shutdown-timeout", values["shutdown-timeout"] as string, { max: MAX_TIMEOUT_MS }),
    jobTimeoutMs: values["job-timeout"] === undefined ? undefined
      : parseDuration("--job-timeout", values["job-timeout"] as string, { min: 1, max: MAX_TIMEOUT_MS }),
    killGraceMs: parseDuration("--kill-grace", values["kill-grace"] as string, { max: MAX_TIMEOUT_MS }),
    claudePath: String(values["claude-path"]),
    logDir: resolveLogDir(ctx.env, values["log-dir"]),
    passEnv: passEnvList(values["pass-env"]),
    retention: {
      finishedMs: parseRetention("--retain-finished", String(values["retain-finished"])),
      failedMs: parseRetention("--retain-failed", String(values["retain-failed"])),
    },
    worktreeDir: resolveLogDir(ctx.env, values["worktree-dir"] ?? workerOptions["worktree-dir"].default),
    worktreeTtlMs: parseDuration("--worktree-ttl", String(values["worktree-ttl"] ?? workerOptions["worktree-ttl"].default), { max: 10 * 366 * 86_400_000 }),
    ...usageSettings(values),
    notify: notifySettings(ctx, values),
  };
}

/**
 * --pass-env: names, or prefixes ending in `*`. The queue's own credentials
 * never reach the agent: an entry that names or would take DATABASE_URL, a
 * PG* variable (libpq's password, service file, ...) or a CLAUDE_JOBS_* one
 * is refused, rather than dropped without a word.
 */
function usageSettings(values: ParsedCommand["values"]): Pick<WorkerSettings, "usageLimitWaitMs" | "continuePrompt" | "claudeAccount"> {
  const continuePrompt = String(values["continue-prompt"] ?? workerOptions["continue-prompt"].default);
  if (continuePrompt.trim() === "" || continuePrompt.includes("\0")) {
    throw new InputError("--continue-prompt", `must be a non-empty text; got ${JSON.stringify(continuePrompt)}`);
  }
  const account = values["claude-account"] === undefined ? undefined : String(values["claude-account"]);
  if (account !== undefined && (account.trim() === "" || account.length > 200 || /[\0-\x1f]/.test(account))) {
    throw new InputError("--claude-account", `must be a name of 1 to 200 printable characters; got ${JSON.stringify(account)}`);
  }
  return {
    usageLimitWaitMs: parseDuration("--usage-limit-wait", String(values["usage-limit-wait"] ?? workerOptions["usage-limit-wait"].default),
      { min: 1000, max: 7 * 86_400_000 }),
    continuePrompt, claudeAccount: account,
  };
}

function passEnvList(value: unknown): string[] {
  if (value === undefined) return [];
  const entries = (Array.isArray(value) ? value : [value]).flatMap((v) => String(v).split(",")).map((e) => e.trim()).filter(Boolean);
  const problem = passEnvProblem(entries);
  if (problem) throw new InputError("--pass-env", problem);
  for (const e of entries) {
    const taken = passEnvDenied(e);
    if (taken) {
      throw new InputError("--pass-env", `${JSON.stringify(e)} would pass ${taken}, the queue's own credentials or settings, which never go to the agent; list the variables it needs by name`);
    }
  }
  return entries;
}

export function buildWorker(ctx: CliContext, sql: import("../../db/connect.ts").Sql, s: WorkerSettings): Worker {
  const handlers = new HandlerRegistry().register("claude", createClaudeHandler({
    claudePath: s.claudePath, logDir: s.logDir, killGraceMs: s.killGraceMs, defaultTimeoutMs: s.jobTimeoutMs, env: ctx.env, passEnv: s.passEnv,
    worktreeDir: s.worktreeDir, worktreeTtlMs: s.worktreeTtlMs,
    usageLimitWaitMs: s.usageLimitWaitMs, continuePrompt: s.continuePrompt, account: s.claudeAccount,
  }));
  const worker = new Worker({
    sql, handlers, queues: s.queues, concurrency: s.concurrency,
    pollIntervalMs: s.pollIntervalMs, rescueIntervalMs: s.rescueIntervalMs,
    maintenance: builtinMaintenance({ now: () => new Date(), retention: { policy: s.retention, logDir: s.logDir }, webhooks: s.notify.webhooks }),
  });
  attachNotify(ctx, worker, sql, s.notify);
  worker.on("error", (e: unknown) => ctx.err(`worker error: ${(e as Error).message ?? e}`));
  // One line per change of the worker's connection state, never one per failed query.
  worker.on("worker:waiting", (e: { reason: string }) => ctx.err(`worker waiting for PostgreSQL (${e.reason}); retrying`));
  worker.on("worker:disconnected", (e: { id: number; reason: string; running: number }) =>
    ctx.err(`worker ${e.id} lost its database session (${e.reason}); not claiming, ${e.running} running job(s) go on; reconnecting`));
  worker.on("worker:reconnected", (e: { id: number; generation: number; running: number; fenced: boolean }) =>
    ctx.err(`worker ${e.id} is back: holds its lock again (session ${e.generation})${e.fenced ? "" : `, kept its ${e.running} running job(s)`}`));
  worker.on("worker:fenced", (e: { id: number; jobs: string[] }) =>
    ctx.err(`worker ${e.id} could not prove its lock in time: stopped its ${e.jobs.length} job(s) so that none can run twice; they go back to the queue`));
  worker.on("worker:usage-paused", (e: { accountLabel: string; until: Date; reason: string }) =>
    ctx.err(`Claude paused until ${formatResetTime(e.until, new Date())} (usage limit) for the account of ${e.accountLabel}: no Claude job starts on its workers until then (claude-jobs claude resume-now lifts it)`));
  worker.on("job:rescued", (jobs: { id: string; status: string }[]) =>
    ctx.err(`rescued ${jobs.length} job(s) of dead workers: ${jobs.map((j) => `${j.id} -> ${j.status}`).join(", ")}`));
  worker.on("maintenance:retention", (r: CleanupReport) => {
    ctx.err(`retention: deleted ${r.total} job(s) (${r.deleted.finished} finished, ${r.deleted.cancelled} cancelled, ${r.deleted.failed} failed), ` +
      `${r.filesRemoved} log file(s) and ${r.worktreesRemoved} worktree folder(s) on this host`);
    for (const problem of r.problems) ctx.err(`retention: could not remove ${problem}`);
  });
  return worker;
}

/**
 * Stops gracefully on the first signal, immediately on the second (running
 * jobs are stopped and put back; a Claude job's processes get the kill
 * grace), and on a third leaves at once: whatever still runs is left to the
 * rescuer, which sees this worker's lock go with the process.
 */
export function stopOnSignals(ctx: CliContext, worker: Worker, shutdownTimeoutMs: number, onFirst?: () => void): Promise<void> {
  return new Promise((resolve) => {
    ctx.onSignal((count) => {
      if (count === 1) {
        ctx.err(`stopping: waiting up to ${shutdownTimeoutMs}ms for ${worker.runningCount} running job(s); signal again to stop now`);
        onFirst?.();
      } else if (count === 2) {
        ctx.err(`stopping ${worker.runningCount} running job(s) now; signal again to leave without waiting for them`);
      } else {
        ctx.err("leaving now; the rescuer will put back what was still running");
        resolve();
        return;
      }
      void worker.stop({ timeoutMs: shutdownTimeoutMs }).then(resolve);
    });
  });
}

/**
 * Opens the database for a long-running command (worker, serve), waiting
 * for a server that is not up yet (see OpenOptions.waitForServer). Null when
 * a signal came first, while waiting or while checking the schema: the
 * caller then exits 0, as a worker stopped by a signal does.
 */
export async function openForWorker(ctx: CliContext, options: Omit<OpenOptions, "waitForServer">): Promise<OpenDatabase | null> {
  const stop = new AbortController();
  // Stays registered once connected, where aborting changes nothing: a
  // signal during the schema check is seen by the aborted check below, and
  // later ones by stopOnSignals.
  ctx.onSignal(() => stop.abort());
  let db: OpenDatabase;
  try {
    db = await openDatabase(ctx, { ...options, waitForServer: { signal: stop.signal } });
  } catch (e: unknown) {
    if (!(e instanceof StoppedWaiting)) throw e;
    ctx.err("stopped before reaching PostgreSQL");
    return null;
  }
  if (stop.signal.aborted) {
    await db.close();
    ctx.err("stopped before starting");
    return null;
  }
  return db;
}

export async function run(ctx: CliContext, { values }: ParsedCommand): Promise<number> {
  const settings = workerSettings(ctx, values);
  // The pool checks the schema and is the template of the worker's own connections (src/worker/db.ts).
  const db = await openForWorker(ctx, { databaseUrl: values["database-url"] as string | undefined, max: 1, applicationName: "claude-jobs worker" });
  if (!db) return 0;
  try {
    const worker = buildWorker(ctx, db.sql, settings);
    const stopped = stopOnSignals(ctx, worker, settings.shutdownTimeoutMs);
    await worker.start();
    ctx.err(`worker ${worker.id} started: queues ${settings.queues.join(",")}, concurrency ${settings.concurrency}, pid ${process.pid}`);
    await stopped;
    ctx.err(`worker ${worker.id} stopped`);
    return 0;
  } finally {
    await db.close();
  }
}
