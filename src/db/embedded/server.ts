// Starting, finding and stopping the embedded server process. pg_ctl starts
// postgres in its own session (setsid), so the server outlives the process
// that started it; postmaster.pid (pid, port, "ready") tells later processes
// where it is. We call pg_ctl/postgres directly instead of the npm wrapper
// class: it pulls in a second driver (pg), ties the server's life to the
// starting process, and hides the log lines we turn into error messages.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import postgres from "postgres";
import { lastLine } from "./cluster.ts";
import { EmbeddedPostgresError } from "./errors.ts";
import type { Context } from "./layout.ts";
import { runTool } from "./layout.ts";
import { pidAlive } from "./lock.ts";

export type PidFile = { pid: number; port: number; status: string };

/** Lines 1, 4 and 8 of postmaster.pid: pid, port, status ("ready", "starting", ...). */
export function readPidFile(cluster: string): PidFile | null {
  try {
    const lines = readFileSync(join(cluster, "postmaster.pid"), "utf8").split("\n");
    return { pid: Number(lines[0]), port: Number(lines[3]), status: (lines[7] ?? "").trim() };
  } catch {
    return null;
  }
}

/** A running (not zombie) process named postgres. A SIGKILLed postmaster stays a zombie until reaped. */
function isPostgres(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8"); // "pid (comm) state ..."
    const m = /^\d+ \((.*)\) (\S)/.exec(stat);
    return m?.[1] === "postgres" && m[2] !== "Z";
  } catch {
    return !existsSync("/proc/self/stat"); // no /proc: trust pidAlive
  }
}

/**
 * The live postmaster of this cluster, or null. With `clean` (only under the
 * start lock: a server being started rewrites the file), a stale pid file is
 * removed: its pid is dead, or was reused by another program after a SIGKILL
 * or a reboot, and PostgreSQL would refuse to start while that pid lives.
 */
export function livePostmaster(cluster: string, clean = false): PidFile | null {
  const file = readPidFile(cluster);
  if (!file) return null;
  if (pidAlive(file.pid) && isPostgres(file.pid)) return file;
  if (clean) rmSync(join(cluster, "postmaster.pid"), { force: true });
  return null;
}

export function urlFor(password: string, port: number): string {
  return `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
}

/** True when the server answers SELECT 1 with our password. */
export async function answers(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {}, idle_timeout: 1 });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

/** A port free on 127.0.0.1 now: the saved one if it still is, else one the kernel picks. */
export async function choosePort(ctx: Context): Promise<number> {
  let saved = 0;
  try {
    saved = Number(JSON.parse(readFileSync(ctx.stateFile, "utf8")).port) || 0;
  } catch {
    /* first start */
  }
  const bind = (port: number) =>
    new Promise<number>((resolve) => {
      const srv = createServer();
      srv.once("error", () => resolve(0));
      srv.listen(port, "127.0.0.1", () => {
        const got = (srv.address() as { port: number }).port;
        srv.close(() => resolve(got));
      });
    });
  return (saved && (await bind(saved))) || bind(0);
}

/** pg_ctl start -w; returns null on success, else the reason from the log. */
export function startServer(ctx: Context, port: number): string | null {
  const logSize = existsSync(ctx.logFile) ? readFileSync(ctx.logFile).length : 0;
  const r = runTool(ctx, "pg_ctl", ["start", "-w", "-t", "120", "-s", "-D", ctx.cluster,
    "-l", ctx.logFile, "-o", `-p ${port}`]);
  if (r.code === 0) {
    writeFileSync(ctx.stateFile, JSON.stringify({ port }) + "\n", { mode: 0o600 });
    return null;
  }
  const newLog = existsSync(ctx.logFile) ? readFileSync(ctx.logFile).subarray(logSize).toString() : "";
  return lastLine(`${r.output}\n${newLog}`);
}

export function stopServer(ctx: Context): void {
  if (!livePostmaster(ctx.cluster, true)) return;
  const r = runTool(ctx, "pg_ctl", ["stop", "-w", "-t", "60", "-s", "-m", "fast", "-D", ctx.cluster]);
  if (r.code !== 0 && livePostmaster(ctx.cluster)) {
    throw new EmbeddedPostgresError(`could not stop the server of ${ctx.cluster}: ${lastLine(r.output)}`);
  }
}
