// A worker process for the chaos suite: the library's Worker, as a user's
// program would run it, plus a record of every execution that survives
// anything done to this process or to PostgreSQL.
//
// Executions are NOT recorded in the database (it may be down, and what the
// database says is what we are checking): each one appends JSON lines to
// $CHAOS_EXEC_DIR/<pid>.jsonl, one write(2) per line on an O_APPEND file, so
// every line written is kept by the kernel even if we are SIGKILLed a moment
// later. The start line is written before the work begins.
//   {"ev":"start","job":id,"attempt":n,"pid":p,"wid":workerId,"wall":Date.now(),"t":timeOrigin+now()}
//   {"ev":"end",...,"how":"done"|"aborted"|"failed","reason":abort kind}
// The worker's own events (its 'error', and every lifecycle event it emits,
// whatever their names: 'worker:lock-lost', 'job:rescued', 'database:lost'
// ...) go to stdout as JSON lines, written synchronously; the harness keeps
// one file per process.
//
// Environment (set by the harness, harness.ts):
//   DATABASE_URL, CHAOS_APP (application_name, distinct per process),
//   CHAOS_EXEC_DIR, CHAOS_CONCURRENCY, CHAOS_POOL (pool size, default 4 as the CLI),
//   CHAOS_POLL_MS / CHAOS_RESCUE_MS / CHAOS_PROBE_MS (Worker intervals; unset: the library's defaults),
//   CHAOS_STOP_TIMEOUT_MS (graceful stop on SIGTERM; a second SIGTERM is immediate),
//   CHAOS_CLAUDE_DIR (when set, also the `claude` kind on the fake CLI: $dir/bin first on PATH, logs in $dir/logs).
// Kinds: `chaos` works payload.ms milliseconds (0: a no-op), honouring its
// AbortSignal; `claude` is createClaudeHandler wrapped with the same records.

import { mkdirSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { createSql } from "../../src/db/connect.ts";
import { createClaudeHandler } from "../../src/handlers/claude/index.ts";
import type { HandlerContext, HandlerDefinition } from "../../src/handlers/types.ts";
import { Worker } from "../../src/worker/worker.ts";

const env = process.env;
const now = () => performance.timeOrigin + performance.now();
const PARENT = process.ppid;

function out(ev: string, data: Record<string, unknown> = {}): void {
  writeSync(1, JSON.stringify({ t: now(), ev, pid: process.pid, ...data }, jsonSafe) + "\n");
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    return { name: value.name, message: value.message, code: (value as { code?: unknown }).code,
      stack: value.stack?.split("\n").slice(1, 6).map((l) => l.trim()) };
  }
  if (typeof value === "bigint") return value.toString();
  return value;
}

// A crash must look like one to the harness (an exit it did not cause), with its reason in our log.
process.on("uncaughtException", (e) => { out("crash:uncaught", { error: e }); process.exit(70); });
process.on("unhandledRejection", (e) => { out("crash:unhandled-rejection", { error: e }); process.exit(71); });

const execFd = openSync(join(env.CHAOS_EXEC_DIR!, `${process.pid}.jsonl`), "a");
function record(line: Record<string, unknown>): void {
  writeSync(execFd, JSON.stringify({ ...line, wall: Date.now(), t: now() }) + "\n");
}

type Base = { job: string; attempt: number; pid: number; wid: number | null; kind: string };
const base = ({ job }: HandlerContext): Base => ({ job: job.id, attempt: job.attempts, pid: process.pid, wid: job.workerId, kind: job.kind });
const reasonOf = (signal: AbortSignal) => (signal.aborted ? (signal.reason as { kind?: string })?.kind ?? "aborted" : undefined);

/** Works `ms` milliseconds, or less if the signal aborts; says which. */
function work(ms: number, signal: AbortSignal): Promise<"done" | "aborted"> {
  if (signal.aborted) return Promise.resolve("aborted");
  if (ms <= 0) return Promise.resolve("done");
  return new Promise((resolve) => {
    const timer = setTimeout(() => { signal.removeEventListener("abort", onAbort); resolve("done"); }, ms);
    const onAbort = () => { clearTimeout(timer); resolve("aborted"); };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

const chaos: HandlerDefinition = {
  run: async (ctx) => {
    const b = base(ctx);
    record({ ...b, ev: "start" });
    const how = await work(Number(ctx.job.payload.ms ?? 0), ctx.signal);
    record({ ...b, ev: "end", how, reason: reasonOf(ctx.signal) });
    if (how === "aborted") throw new Error(`chaos job stopped: ${(ctx.signal.reason as { message?: string })?.message}`);
    return { pid: process.pid };
  },
};

/** The Claude handler with start and end records around each run. */
function recordedClaude(dir: string): HandlerDefinition {
  mkdirSync(join(dir, "home"), { recursive: true });
  const inner = createClaudeHandler({
    logDir: join(dir, "logs"),
    killGraceMs: Number(env.CHAOS_KILL_GRACE_MS ?? 2000),
    // The fake CLI first on PATH; IS_SANDBOX=1 because we run as root; a dummy key because the fake,
    // like the real CLI, refuses to run logged out (it calls no API); CHAOS_RUN so cleanup finds its processes.
    env: { PATH: `${join(dir, "bin")}:${env.PATH ?? "/usr/bin:/bin"}`, HOME: join(dir, "home"), IS_SANDBOX: "1",
      ANTHROPIC_API_KEY: "sk-ant-chaos-fake-key", CHAOS_RUN: env.CHAOS_RUN },
    // Not on the handler's allow-list: without it the fake's processes would lose their cleanup marker.
    passEnv: ["CHAOS_RUN"],
  });
  return {
    ...inner,
    run: async (ctx) => {
      const b = base(ctx);
      record({ ...b, ev: "start" });
      try {
        const result = await inner.run(ctx);
        record({ ...b, ev: "end", how: "done", reason: reasonOf(ctx.signal) });
        return result;
      } catch (e: unknown) {
        record({ ...b, ev: "end", how: ctx.signal.aborted ? "aborted" : "failed", reason: reasonOf(ctx.signal), error: (e as Error).message });
        throw e;
      }
    },
  };
}

const concurrency = Number(env.CHAOS_CONCURRENCY ?? 10);
const sql = createSql(env.DATABASE_URL!, { max: Number(env.CHAOS_POOL ?? 4), applicationName: env.CHAOS_APP });
const handlers: Record<string, HandlerDefinition> = { chaos };
if (env.CHAOS_CLAUDE_DIR) handlers.claude = recordedClaude(env.CHAOS_CLAUDE_DIR);
const ms = (name: string) => (env[name] ? Number(env[name]) : undefined);
const worker = new Worker({
  sql, handlers, concurrency,
  pollIntervalMs: ms("CHAOS_POLL_MS"), rescueIntervalMs: ms("CHAOS_RESCUE_MS"), lockProbeIntervalMs: ms("CHAOS_PROBE_MS"),
});

// Log every event the worker emits, whatever it is called (new ones included),
// except the two that fire for every job: they would only repeat the exec log.
const QUIET = new Set(["job:start", "job:finished"]);
const emit = worker.emit.bind(worker);
worker.emit = (name: string | symbol, ...args: unknown[]) => {
  if (!QUIET.has(String(name))) out(String(name), { args: args.map(summarize) });
  return emit(name, ...args);
};
worker.on("error", () => {}); // logged above; an 'error' without a listener would throw

function summarize(arg: unknown): unknown {
  if (Array.isArray(arg)) return arg.length > 20 ? { count: arg.length, first: arg.slice(0, 20) } : arg;
  if (arg && typeof arg === "object" && "payload" in arg) {
    const j = arg as unknown as { id: string; attempts: number; status: string };
    return { id: j.id, attempts: j.attempts, status: j.status };
  }
  return arg;
}

// A harness that died cannot clean up after us: leave with it.
setInterval(() => { if (process.ppid !== PARENT) process.exit(0); }, 1000).unref();

let signals = 0;
process.on("SIGTERM", () => {
  signals += 1;
  out("signal", { signal: "SIGTERM", count: signals, running: worker.runningCount });
  const stopping = worker.stop({ timeoutMs: Number(env.CHAOS_STOP_TIMEOUT_MS ?? 30_000) });
  if (signals > 1) return;
  void stopping.then(async () => {
    out("stopped");
    await sql.end({ timeout: 2 }).catch(() => {});
    process.exit(0);
  });
});

try {
  await worker.start();
} catch (e: unknown) {
  out("start-failed", { error: e });
  process.exit(3);
}
out("ready", { workerId: worker.id, app: env.CHAOS_APP, concurrency });
