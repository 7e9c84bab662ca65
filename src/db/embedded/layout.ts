// Where every file of the embedded PostgreSQL lives, and how its tools run.
//
//   <dataDir>/embedded-postgres.lock      start lock (pid, time), see lock.ts
//   <dataDir>/embedded-postgres.password  generated superuser password, 0600
//   <dataDir>/embedded-postgres.json      the port last used, to keep the URL stable
//   <home>/runtime/<version>/             binaries, see runtime.ts
//   <home>/pg/                            the cluster (PGDATA); pg/server.log its log
//
// <home> is <dataDir> unless claude-jobs runs as root and the server user
// cannot reach <dataDir> (the default ~/.local/share/claude-jobs of root sits
// in /root, mode 0700): then it is /var/lib/claude-jobs/<hash of dataDir>.
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { type RunAs } from "./identity.ts";
import type { Runtime } from "./runtime.ts";

export type Layout = {
  dataDir: string;
  home: string;
  cluster: string;
  logFile: string;
  lockFile: string;
  passwordFile: string;
  stateFile: string;
};

export type Context = Layout & { runAs: RunAs; runtime: Runtime; log: (line: string) => void };

export function layout(dataDirIn: string, home?: string): Layout {
  const dataDir = resolve(dataDirIn);
  const h = home ?? dataDir;
  return {
    dataDir,
    home: h,
    cluster: join(h, "pg"),
    logFile: join(h, "pg", "server.log"),
    lockFile: join(dataDir, "embedded-postgres.lock"),
    passwordFile: join(dataDir, "embedded-postgres.password"),
    stateFile: join(dataDir, "embedded-postgres.json"),
  };
}

export function rootHome(dataDir: string): string {
  const id = createHash("sha256").update(resolve(dataDir)).digest("hex").slice(0, 12);
  return join("/var/lib/claude-jobs", id);
}

/** The environment PostgreSQL tools see: nothing of the caller's PG* variables. */
function toolEnv(): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C", LC_ALL: "C" };
  if (process.env.TZ) env.TZ = process.env.TZ;
  return env;
}

export type ToolResult = { code: number; output: string };

/** Runs bin/<tool> as the server user; never throws for a non-zero exit. */
export function runTool(ctx: Context, tool: string, args: string[], timeoutMs = 120_000): ToolResult {
  const r = spawnSync(ctx.runtime.bin(tool), args, {
    encoding: "utf8",
    env: toolEnv(),
    cwd: ctx.home,
    timeout: timeoutMs,
    stdio: ["ignore", "pipe", "pipe"],
    ...(ctx.runAs ? { uid: ctx.runAs.uid, gid: ctx.runAs.gid } : {}),
  });
  const output = `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? r.error.message : ""}`.trim();
  return { code: r.status ?? -1, output };
}
