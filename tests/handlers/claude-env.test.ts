// The environment the Claude CLI gets: an allow-list of the worker's, never
// the whole of it. Run with the fake CLI, which dumps what it was given
// ($FAKE_CLAUDE_ENV_FILE): the queue's credentials (DATABASE_URL, PGPASSWORD,
// CLAUDE_JOBS_TOKEN) and any other secret are gone, Claude's own settings
// and what passEnv lists are there, the job markers are still added, and
// this package's node_modules/.bin (a pinned dev copy of the real CLI, first
// on PATH under `bun run`) is taken off PATH.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createClaudeHandler } from "../../src/handlers/claude/index.ts";
import { claudeEnv, cleanPath, PACKAGE_ROOT } from "../../src/handlers/claude/env.ts";
import { InputError } from "../../src/errors.ts";
import { FAKE_BIN, fakeEnv, makeJob, runJob, tempDir } from "./claude-helpers.ts";

const cwd = tempDir();
const DEV_BIN = join(PACKAGE_ROOT, "node_modules", ".bin");

/** The worker's environment as `claude-jobs worker` has it: secrets among the rest. */
function workerEnv(envFile: string): Record<string, string> {
  return {
    ...fakeEnv(),
    PATH: `${DEV_BIN}:${FAKE_BIN}:/usr/local/bin:/usr/bin:/bin`,
    DATABASE_URL: "postgres://app:hunter2@db.internal:5432/jobs",
    PGPASSWORD: "hunter2",
    PGUSER: "app",
    CLAUDE_JOBS_TOKEN: "dashboard-token-0123456789-0123456789-abc",
    CLAUDE_JOBS_DATABASE_URL: "postgres://app:hunter2@db.internal/jobs",
    AWS_SECRET_ACCESS_KEY: "aws-secret",
    GITHUB_TOKEN: "ghp_secret",
    SECRET_X: "arbitrary secret",
    ANTHROPIC_API_KEY: "sk-ant-dummy-key-for-the-fake-claude",
    ANTHROPIC_BASE_URL: "https://llm-gateway.internal",
    CLAUDE_CONFIG_DIR: join(tempDir("claude-config-"), ".claude"),
    CLAUDE_CODE_USE_BEDROCK: "0",
    LANG: "C.UTF-8",
    LC_ALL: "C.UTF-8",
    TZ: "Europe/Paris",
    HTTPS_PROXY: "http://proxy.internal:3128",
    no_proxy: "localhost",
    NODE_EXTRA_CA_CERTS: "/etc/ssl/certs/corp.pem",
    XDG_CACHE_HOME: "/tmp/cache",
    USER: "worker",
    TERM: "xterm",
    MY_TOOL_HOME: "/opt/tool",
    AWS_PROFILE: "dev",
    AWS_REGION: "eu-west-3",
    FAKE_CLAUDE_ENV_FILE: envFile,
  };
}

let lastGiven: Record<string, string> = {};

async function childEnv(passEnv: string[]): Promise<Record<string, string>> {
  const envFile = join(tempDir("claude-env-"), "env.json");
  lastGiven = workerEnv(envFile);
  const handler = createClaudeHandler({ logDir: tempDir("claude-logs-"), env: lastGiven, killGraceMs: 1000, passEnv });
  const job = makeJob({ prompt: "hi", cwd });
  const { value, error } = await runJob(handler, job);
  expect(error).toBeUndefined();
  expect(value?.result).toBe("echo: hi");
  return { ...(JSON.parse(readFileSync(envFile, "utf8")) as Record<string, string>), __jobId: job.id };
}

describe("the CLI's environment", () => {
  test("holds none of the worker's secrets: DATABASE_URL, PGPASSWORD, CLAUDE_JOBS_TOKEN, SECRET_X and the like", async () => {
    const env = await childEnv(["FAKE_CLAUDE_ENV_FILE"]);
    for (const name of ["DATABASE_URL", "PGPASSWORD", "PGUSER", "CLAUDE_JOBS_TOKEN", "CLAUDE_JOBS_DATABASE_URL", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "SECRET_X", "MY_TOOL_HOME", "AWS_PROFILE"]) {
      expect(env[name]).toBeUndefined();
    }
    expect(JSON.stringify(env)).not.toContain("hunter2");
  });

  test("holds what Claude and a shell need: its credentials and settings, identity, locale, proxies, CA certificates, XDG folders", async () => {
    const env = await childEnv(["FAKE_CLAUDE_ENV_FILE"]);
    const given = lastGiven;
    for (const name of ["ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "CLAUDE_CONFIG_DIR", "CLAUDE_CODE_USE_BEDROCK", "HOME", "USER", "TERM",
      "LANG", "LC_ALL", "TZ", "HTTPS_PROXY", "no_proxy", "NODE_EXTRA_CA_CERTS", "XDG_CACHE_HOME", "IS_SANDBOX"]) {
      expect(env[name]).toBe(given[name]!);
    }
  });

  test("the job markers are still added after the allow-list (a job's processes die with their worker)", async () => {
    const env = await childEnv(["FAKE_CLAUDE_ENV_FILE"]);
    expect(env.CLAUDE_JOBS_JOB).toBe(env.__jobId!);
    expect(env.CLAUDE_JOBS_OWNER).toMatch(/\S/);
  });

  test("passEnv adds names and prefixes the operator lists; CLAUDE_JOBS_*, DATABASE_URL and PG* never pass, even listed", async () => {
    const env = await childEnv(["FAKE_CLAUDE_ENV_FILE", "MY_TOOL_HOME", "AWS_*", "CLAUDE_JOBS_TOKEN", "CLAUDE_JOBS_*", "DATABASE_URL", "PGPASSWORD", "PG*"]);
    expect(env.PGPASSWORD).toBeUndefined();
    expect(env.MY_TOOL_HOME).toBe("/opt/tool");
    expect(env.AWS_PROFILE).toBe("dev");
    expect(env.AWS_REGION).toBe("eu-west-3");
    expect(env.AWS_SECRET_ACCESS_KEY).toBe("aws-secret"); // listed by the operator: their call
    expect(env.CLAUDE_JOBS_TOKEN).toBeUndefined();
    expect(env.CLAUDE_JOBS_DATABASE_URL).toBeUndefined();
    expect(env.DATABASE_URL).toBeUndefined();
  });

  test("this package's node_modules/.bin is taken off PATH, so the user's own claude is found, not the pinned dev copy", async () => {
    const env = await childEnv(["FAKE_CLAUDE_ENV_FILE"]);
    expect(env.PATH!.split(":")).not.toContain(DEV_BIN);
    expect(env.PATH!.split(":").slice(0, 2)).toEqual([FAKE_BIN, "/usr/local/bin"]);
    expect(cleanPath(`${DEV_BIN}/:/usr/bin::${DEV_BIN}`)).toBe("/usr/bin");
    expect(cleanPath("node_modules/.bin:/usr/bin")).toBe("node_modules/.bin:/usr/bin"); // a relative entry is not ours to judge
  });

  test("a passEnv entry that is not a name or a prefix is refused naming the option", () => {
    for (const bad of ["*", "A B", "FOO=1", "-x", ""]) {
      expect(() => createClaudeHandler({ passEnv: [bad] })).toThrow(InputError);
      expect(() => claudeEnv({}, { passEnv: [bad] })).toThrow(/passEnv/);
    }
  });
});

test("passEnvDenied: what of DATABASE_URL, PG* and CLAUDE_JOBS_* an entry would take (the CLI refuses those)", async () => {
  const { passEnvDenied } = await import("../../src/handlers/claude/env.ts");
  expect(passEnvDenied("DATABASE_URL")).toBe("DATABASE_URL");
  expect(passEnvDenied("DATA*")).toBe("DATABASE_URL");
  expect(passEnvDenied("PGPASSWORD")).toBe("PG* variables");
  expect(passEnvDenied("P*")).toBe("PG* variables");
  expect(passEnvDenied("CLAUDE_JOBS_TOKEN")).toBe("CLAUDE_JOBS_* variables");
  expect(passEnvDenied("CLAUDE_JOBS_*")).toBe("CLAUDE_JOBS_* variables");
  // Broader prefixes an allowed prefix already grants: claudeEnv drops the denied ones from them.
  for (const ok of ["CLAUDE_*", "C*", "AWS_*", "MY_TOOL_HOME", "PATH_EXTRA"]) expect(passEnvDenied(ok)).toBeNull();
});
