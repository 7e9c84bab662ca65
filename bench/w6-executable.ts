// W6: the compiled executable. Start-up of `claude-jobs --version` and of
// `claude-jobs stats` against the bench database (median of 20 runs, spawn to
// exit), the file's size, and the time from no data folder to a migrated
// embedded PostgreSQL (unpack the runtime, initdb, start, migrate), then the
// same command again once it runs (attach). Builds dist/claude-jobs first if
// it is missing or older than its sources.

import { chmodSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBuilt } from "../scripts/build.ts";
import { rootHome } from "../src/db/embedded/layout.ts";

type Report = (line: Record<string, unknown>) => void;

const RUNS = 20;

function timed(exe: string, args: string[], env: Record<string, string>, cwd: string): number {
  const t = performance.now();
  const r = Bun.spawnSync([exe, ...args], { env, cwd, stdout: "pipe", stderr: "pipe" });
  const ms = performance.now() - t;
  if (r.exitCode !== 0) throw new Error(`W6: claude-jobs ${args[0]} exited ${r.exitCode}: ${r.stderr.toString().trim()}`);
  return ms;
}

function median(exe: string, args: string[], env: Record<string, string>, cwd: string): number {
  timed(exe, args, env, cwd); // warm the page cache: W6 measures start-up, not the first disk read
  const samples = Array.from({ length: RUNS }, () => timed(exe, args, env, cwd)).sort((a, b) => a - b);
  return (samples[RUNS / 2 - 1]! + samples[RUNS / 2]!) / 2;
}

const round = (n: number, digits = 1) => Number(n.toFixed(digits));

export async function w6(report: Report, databaseUrl: string): Promise<void> {
  const exe = await ensureBuilt();
  const home = mkdtempSync(join(tmpdir(), "cj-bench-w6-"));
  chmodSync(home, 0o755); // as root, the embedded server's own user must reach the data folder
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, XDG_CONFIG_HOME: join(home, ".config"), XDG_DATA_HOME: join(home, "data") };
  const dataDir = join(home, "data", "claude-jobs");
  try {
    const versionMs = median(exe, ["--version"], env, home);
    const statsMs = median(exe, ["stats", `--database-url=${databaseUrl}`], env, home);
    const firstMs = timed(exe, ["migrate"], env, home);
    const attachMs = median(exe, ["stats"], env, home);
    report({
      workload: "W6", name: "executable", size_mb: round(statSync(exe).size / 1e6),
      version_ms: round(versionMs), stats_ms: round(statsMs),
      embedded_first_migrate_ms: round(firstMs, 0), embedded_stats_ms: round(attachMs),
    });
  } finally {
    Bun.spawnSync([exe, "db", "stop"], { env, cwd: home, stdout: "ignore", stderr: "ignore" });
    rmSync(home, { recursive: true, force: true });
    rmSync(rootHome(dataDir), { recursive: true, force: true }); // where root's server user keeps it, if it could not reach home
  }
}
