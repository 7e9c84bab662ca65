// The compiled executable under test: built once (or reused when dist/claude-jobs
// is newer than every input of the build: scripts/build.ts isFresh), then run from a throw-away folder
// through a PATH that has no bun on it and a folder with no node_modules above
// it. The fake `claude` stays runnable through a wrapper that names bun by its
// absolute path, so the executable itself never finds bun.

import { chmodSync, linkSync, copyFileSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { ADMIN_URL, urlFor } from "../helpers/db.ts";
import { REPO } from "../helpers/engine.ts";
import { tempDir } from "../helpers/cli.ts";
import { ensureBuilt } from "../../scripts/build.ts";

let built: Promise<string> | null = null;

/** dist/claude-jobs, rebuilt if any input of the build is newer (once per test process). */
export function ensureExecutable(): Promise<string> {
  built ??= ensureBuilt();
  return built;
}

/** Tools the executable may run (tar for the runtime, id/useradd as root), without bun. */
function toolsDir(): string {
  const dir = tempDir("cj-tools-");
  for (const tool of ["tar", "gzip", "id", "sh"]) {
    const path = Bun.which(tool);
    if (path) symlinkSync(path, join(dir, tool));
  }
  return dir;
}

export interface Sandbox {
  /** The folder commands run in: no node_modules, no package.json; a stray .env and bunfig.toml. */
  dir: string;
  /** The executable, linked into the sandbox. */
  exe: string;
  env: Record<string, string>;
}

/** A fresh folder holding the executable, a private HOME, and a PATH without bun. */
export async function sandbox(extra: Record<string, string> = {}): Promise<Sandbox> {
  const source = await ensureExecutable();
  const dir = tempDir("cj-exe-");
  chmodSync(dir, 0o755); // as root, the embedded server's own user must reach the data folder
  const exe = join(dir, "claude-jobs");
  try {
    linkSync(source, exe);
  } catch {
    copyFileSync(source, exe);
  }
  const bin = join(dir, "fake-bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "claude"), `#!/bin/sh\nexec '${process.execPath}' '${join(REPO, "tests/fixtures/fake-claude")}' "$@"\n`, { mode: 0o755 });
  // Read if autoloading were on: the bogus URL would win over the embedded database, the preload would fail start-up.
  writeFileSync(join(dir, ".env"), "DATABASE_URL=postgres://bogus:bogus@256.0.0.1:1/bogus\n");
  writeFileSync(join(dir, "bunfig.toml"), 'preload = ["./no-such-preload.ts"]\n');
  const home = join(dir, "home");
  mkdirSync(home, { mode: 0o755 });
  const env = {
    PATH: `${bin}:${toolsDir()}:/usr/sbin:/sbin`,
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_DATA_HOME: join(home, ".local", "share"),
    IS_SANDBOX: "1", // tests run as root; the fake refuses --dangerously-skip-permissions otherwise
    ANTHROPIC_API_KEY: "sk-ant-dummy-key-for-the-fake-claude", // the fake, like the real CLI, needs credentials (any key)
    CI: "1",
    ...extra,
  };
  return { dir, exe, env };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function run(box: Sandbox, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  const proc = Bun.spawn([box.exe, ...args], { cwd: box.dir, env: { ...box.env, ...env }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** A long-running command (worker, dashboard) whose stderr is collected as it comes. */
export function start(box: Sandbox, args: string[]) {
  const proc = Bun.spawn([box.exe, ...args], { cwd: box.dir, env: box.env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let stderr = "";
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) stderr += decoder.decode(chunk, { stream: true });
  })();
  return { proc, stderr: () => stderr };
}

/** An empty database (not cloned from the migrated template), so `migrate` has work to do. */
export async function emptyDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `claude_jobs_exe_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    url: urlFor(name),
    async drop() {
      const a = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
      try {
        await a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}
