// Running the real CLI (`bun src/cli/main.ts ...`) as a child process, with
// an environment that cannot reach the user's own config or database, and the
// fake `claude` from tests/fixtures first on PATH for worker runs.

import { mkdtempSync, realpathSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO, spawnChild, type Child } from "./engine.ts";

export const CLI = join(REPO, "src/cli/main.ts");

export function tempDir(prefix: string): string {
  return realpathSync(mkdtempSync(join(tmpdir(), prefix)));
}

/** A folder holding `claude`, a link to the fake CLI, to put first on PATH. */
const FAKE_BIN = tempDir("claude-jobs-bin-");
symlinkSync(join(REPO, "tests/fixtures/fake-claude"), join(FAKE_BIN, "claude"));

/** A clean environment: no DATABASE_URL or CLAUDE_JOBS_* from the caller, a private HOME. */
export function cliEnv(extra: Record<string, string> = {}): Record<string, string> {
  const home = tempDir("claude-jobs-home-");
  return {
    PATH: `${FAKE_BIN}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    IS_SANDBOX: "1", // tests run as root; the fake refuses --dangerously-skip-permissions otherwise
    ANTHROPIC_API_KEY: "sk-ant-dummy-key-for-the-fake-claude", // the fake, like the real CLI, needs credentials (any key)
    CI: "1",
    ...extra,
  };
}

export function spawnCli(args: string[], env: Record<string, string> = cliEnv(), stdin?: string): Child {
  return spawnChild([process.execPath, CLI, ...args], env, stdin);
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(args: string[], options: { env?: Record<string, string>; stdin?: string } = {}): Promise<CliResult> {
  const child = spawnCli(args, options.env ?? cliEnv(), options.stdin);
  const code = await child.exited;
  return { code, stdout: child.stdout(), stderr: child.stderr() };
}
