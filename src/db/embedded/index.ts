// The embedded PostgreSQL: what claude-jobs runs on when no DATABASE_URL is
// given. startEmbeddedPostgres() returns the URL of a real PostgreSQL server
// whose cluster lives in the data folder; the first process starts it, later
// ones (a worker and a dashboard, two workers) attach to the running one.
//
// Lifecycle: a managed background server, not reference counting. The server
// keeps running after the process that started it exits, until
// stopEmbeddedPostgres() (a `claude-jobs` stop command) or a reboot. Why:
//  - short commands (enqueue, stats, the wizard) attach in ~10 ms instead of
//    paying a start and a checkpointing stop each time;
//  - a SIGKILLed process cannot leave a wrong count of users behind, and there
//    is no race between "the last user leaves and stops it" and "a new user
//    attaches";
//  - a Ctrl-C in the terminal of the first worker does not take the database
//    away from the dashboard started in another terminal.
// The cost, one idle postgres (~30 MB) left running, is what every local
// database service costs; it listens on 127.0.0.1 only, with a password.
import { accessSync, constants, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { readPassword, ensureCluster } from "./cluster.ts";
import { EmbeddedPostgresError, folderError } from "./errors.ts";
import { canTraverse, type RunAs, serverRunAs } from "./identity.ts";
import { type Context, layout, rootHome } from "./layout.ts";
import { acquire } from "./lock.ts";
import { ensureRuntime } from "./runtime.ts";
import { answers, choosePort, livePostmaster, startServer, stopServer, urlFor } from "./server.ts";

export { EmbeddedPostgresError } from "./errors.ts";

export type EmbeddedOptions = {
  /** The claude-jobs data folder ($XDG_DATA_HOME/claude-jobs); the cluster goes in <dataDir>/pg. */
  dataDir: string;
  /** One line per thing done (initialized, started, running as user ...). */
  log?: (line: string) => void;
  /** How long to wait for another process that is starting the server. Default 120 s. */
  timeoutMs?: number;
};

export type EmbeddedPostgres = {
  /** postgres://postgres:<password>@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  pid: number;
  /** True if this call started the server, false if it attached to a running one. */
  started: boolean;
  /** Stops the server for every process using it (not needed on exit: it is a managed server). */
  stop(): Promise<void>;
};

/** Where the cluster and binaries go: the data folder, unless the server user cannot reach it. */
function chooseHome(dataDir: string, runAs: RunAs): string {
  if (!runAs || canTraverse(dataDir, runAs)) return dataDir;
  const home = rootHome(dataDir);
  try {
    mkdirSync(home, { recursive: true, mode: 0o755 });
  } catch (e: unknown) {
    throw folderError("create", home, e);
  }
  if (canTraverse(home, runAs)) return home;
  throw new EmbeddedPostgresError(
    `user "${runAs.name}" can reach neither ${dataDir} nor ${home}: give it search permission ` +
      `(chmod o+x) on one of them, run claude-jobs as a non-root user, or set DATABASE_URL`,
  );
}

async function prepare(dataDir: string, log: (line: string) => void): Promise<Context> {
  const base = layout(dataDir);
  const { runAs, note } = serverRunAs();
  try {
    // As root, 0711 lets the server user pass through to pg/ without listing the folder.
    mkdirSync(base.dataDir, { recursive: true, mode: runAs ? 0o711 : 0o700 });
    accessSync(base.dataDir, constants.W_OK);
  } catch (e: unknown) {
    throw folderError("write to the data folder", base.dataDir, e);
  }
  const home = chooseHome(base.dataDir, runAs);
  if (runAs) log(`${note}, with its cluster in ${home}/pg${home === base.dataDir ? "" : ` (it cannot reach ${base.dataDir})`}`);
  const runtime = await ensureRuntime(home);
  return { ...layout(base.dataDir, home), runAs, runtime, log };
}

type Found = { url: string; port: number; pid: number };

/** The running server, if it is ready and answers with our password. */
async function attach(ctx: Context): Promise<Found | undefined> {
  const pf = livePostmaster(ctx.cluster);
  if (!pf || pf.status !== "ready") return undefined;
  const url = urlFor(readPassword(ctx), pf.port);
  return (await answers(url)) ? { url, port: pf.port, pid: pf.pid } : undefined;
}

const RETRYABLE = /already in use|could not bind|could not create any TCP|shared memory block is still in use|lock file .* already exists/i;

/** Under the start lock: waits for a starting server or starts one (3 tries). */
async function startUnderLock(ctx: Context, deadline: number): Promise<Found> {
  ensureCluster(ctx);
  let reason = "";
  for (let attempt = 1; attempt <= 3; attempt++) {
    const live = livePostmaster(ctx.cluster, true);
    if (live) {
      // Starting or in crash recovery: wait for it rather than start another.
      while (Date.now() < deadline) {
        const found = await attach(ctx);
        if (found) return found;
        if (!livePostmaster(ctx.cluster)) break;
        await Bun.sleep(100);
      }
      continue;
    }
    const started = performance.now();
    const port = await choosePort(ctx);
    const failure = startServer(ctx, port);
    const found = failure === null ? await attach(ctx) : undefined;
    if (found) {
      const ms = Math.round(performance.now() - started);
      ctx.log(`started PostgreSQL ${ctx.runtime.version} on 127.0.0.1:${port} (pid ${found.pid}, ${ms} ms)`);
      return found;
    }
    reason = failure ?? "it started but does not accept our password";
    if (!RETRYABLE.test(reason)) break;
    await Bun.sleep(300 * attempt);
  }
  throw new EmbeddedPostgresError(
    `the server in ${ctx.cluster} would not start: ${reason}. See ${ctx.logFile}; ` +
      `if the cluster is damaged, move ${ctx.cluster} away to start an empty database`,
  );
}

function handle(ctx: Context, found: Found, started: boolean): EmbeddedPostgres {
  return { ...found, started, stop: () => stopEmbeddedPostgres({ dataDir: ctx.dataDir, log: ctx.log }) };
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedPostgres> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const ctx = await prepare(options.dataDir, options.log ?? (() => {}));
  const running = await attach(ctx);
  if (running) return handle(ctx, running, false);
  const lock = await acquire(ctx.lockFile, { timeoutMs, whileWaiting: () => attach(ctx) });
  if ("found" in lock) return handle(ctx, lock.found, false);
  try {
    const again = await attach(ctx); // started by the previous holder of the lock
    if (again) return handle(ctx, again, false);
    return handle(ctx, await startUnderLock(ctx, Date.now() + timeoutMs), true);
  } finally {
    lock.release();
  }
}

/** Stops the data folder's server if it runs (fast shutdown: open sessions are cut). */
export async function stopEmbeddedPostgres(options: EmbeddedOptions): Promise<void> {
  const ctx = await prepare(options.dataDir, options.log ?? (() => {}));
  const lock = await acquire(ctx.lockFile, { timeoutMs: options.timeoutMs ?? 120_000, whileWaiting: async () => undefined });
  if ("found" in lock) return;
  try {
    stopServer(ctx);
    ctx.log(`stopped the PostgreSQL server of ${ctx.cluster}`);
  } finally {
    lock.release();
  }
}

export type EmbeddedStatus =
  | { state: "absent"; dataDir: string }
  | { state: "stopped"; dataDir: string; cluster: string }
  | { state: "starting"; dataDir: string; cluster: string; pid: number }
  | { state: "running"; dataDir: string; cluster: string; pid: number; port: number; url: string };

/**
 * What the data folder's server is doing, changing nothing: no folder, user,
 * runtime or cluster is created and nothing is started (`db status`). The
 * cluster is where startEmbeddedPostgres puts it: in the data folder, or
 * (run as root, when the server user cannot reach it) under /var/lib/claude-jobs.
 */
export async function embeddedPostgresStatus(dataDir: string): Promise<EmbeddedStatus> {
  const base = layout(dataDir);
  const cluster = [join(base.dataDir, "pg"), join(rootHome(base.dataDir), "pg")].find((c) => existsSync(join(c, "PG_VERSION")));
  if (!cluster) return { state: "absent", dataDir: base.dataDir };
  const pf = livePostmaster(cluster);
  if (!pf) return { state: "stopped", dataDir: base.dataDir, cluster };
  if (pf.status !== "ready") return { state: "starting", dataDir: base.dataDir, cluster, pid: pf.pid };
  const url = urlFor(readPassword({ ...base, cluster } as Context), pf.port);
  if (!(await answers(url))) return { state: "starting", dataDir: base.dataDir, cluster, pid: pf.pid };
  return { state: "running", dataDir: base.dataDir, cluster, pid: pf.pid, port: pf.port, url };
}
