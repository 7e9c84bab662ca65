// Secrets the CLI must not print or leave open: a database URL's password in
// any message (a URL that does not parse, `?password=`, a flag put before the
// command, the server's refusal), and a config file that other users can
// read: refused when it holds a password (with the chmod that fixes it, as
// ssh does), a warning otherwise. The wizard's save never leaves it open.

import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { chmodSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { holdsPassword, loadConfigFile, saveConfigFile } from "../../src/config.ts";
import { DatabaseUnreachableError, redactUrl } from "../../src/errors.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { cliEnv, runCli, tempDir } from "../helpers/cli.ts";

setDefaultTimeout(30_000);

const SECRET = "s3cret-Pa55";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

describe("redactUrl", () => {
  const cases: [string, string][] = [
    [`postgres://app:${SECRET}@db.example:5432/jobs`, "postgres://app:***@db.example:5432/jobs"],
    // Unparseable: a bad port, a space, an @ in the password, an escaped quote inside a JSON string.
    [`got "postgres://app:${SECRET}@db:notaport/jobs"`, 'got "postgres://app:***@db:notaport/jobs"'],
    [`postgres://app:pa ss${SECRET}@db/jobs: refused`, "postgres://app:***@db/jobs: refused"],
    [`postgres://app:p@${SECRET}@db/jobs`, "postgres://app:***@db/jobs"],
    [`got "postgres://app:p\\"${SECRET}@db/jobs"`, 'got "postgres://app:***@db/jobs"'],
    // Parameters.
    [`postgres://db/jobs?password=${SECRET}&sslmode=require`, "postgres://db/jobs?password=***&sslmode=require"],
    [`postgres://db/jobs?sslpassword=${SECRET}: connect ECONNREFUSED`, "postgres://db/jobs?sslpassword=***: connect ECONNREFUSED"],
    [`host=db password='a ${SECRET}' dbname=jobs`, "host=db password=*** dbname=jobs"],
    // Nothing to hide.
    ["postgres://postgres@127.0.0.1:1/nowhere", "postgres://postgres@127.0.0.1:1/nowhere"],
    ["postgres://db:5432/jobs and mail a@b.example", "postgres://db:5432/jobs and mail a@b.example"],
    ["open http://127.0.0.1:8080/login?token=abc to sign in", "open http://127.0.0.1:8080/login?token=abc to sign in"],
  ];
  for (const [text, expected] of cases) test(JSON.stringify(text), () => expect(redactUrl(text)).toBe(expected));

  test("the driver's own message is redacted too (DatabaseUnreachableError)", () => {
    const e = new DatabaseUnreachableError(`postgres://u:${SECRET}@h/db`, new Error(`connect failed for postgres://u:${SECRET}@h/db?password=${SECRET}`));
    expect(e.message).not.toContain(SECRET);
  });
});

describe("no password in a message", () => {
  const unreachable = "127.0.0.1:1";
  const cases: [string, string[], Record<string, string>][] = [
    ["an unparseable --database-url", ["list", `--database-url=postgres://app:${SECRET}@db.example:notaport/jobs`], {}],
    ["an unparseable DATABASE_URL", ["stats"], { DATABASE_URL: `postgres://app:${SECRET}@[::1/jobs` }],
    ["a password with a space", ["list", `--database-url=postgres://app:x ${SECRET}@${unreachable}/jobs`], {}],
    ["?password= in an unreachable URL", ["list", `--database-url=postgres://app@${unreachable}/jobs?password=${SECRET}`], {}],
    ["a user's password the server refuses", ["stats", `--database-url=postgres://no_such_role:${SECRET}@127.0.0.1:5432/postgres`], {}],
    ["the flag before the command", [`--database-url=postgres://app:${SECRET}@db.example/jobs`, "stats"], {}],
    ["a URL where a command goes", [`postgres://app:${SECRET}@db.example/jobs`], {}],
    ["a URL as a stray argument", ["stats", `postgres://app:${SECRET}@db.example/jobs`, `--database-url=${"postgres://postgres@127.0.0.1:5432/postgres"}`], {}],
  ];
  for (const [what, args, env] of cases) {
    test(`${what}: one line, no password`, async () => {
      const r = await runCli(args, { env: cliEnv(env) });
      expect(r.code).not.toBe(0);
      expect(r.stdout + r.stderr).not.toContain(SECRET);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    });
  }

  test("the flag before the command is named, without its value, with the right order", async () => {
    const r = await runCli([`--database-url=postgres://app:${SECRET}@db.example/jobs`, "stats"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--database-url is an option, and options go after the command: claude-jobs stats --database-url=...");
  });
});

describe("a config file others can read", () => {
  function configIn(home: string, config: Record<string, unknown>, mode: number): string {
    const dir = join(home, ".config", "claude-jobs");
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, "config.json");
    writeFileSync(path, JSON.stringify(config));
    chmodSync(path, mode);
    return path;
  }

  test("holding a password, it is refused with the chmod that fixes it, and the password is not printed", async () => {
    for (const mode of [0o644, 0o640, 0o604, 0o660]) {
      const env = cliEnv();
      const path = configIn(env.HOME!, { databaseUrl: db.url.replace("postgres@", `postgres:${SECRET}@`) }, mode);
      const r = await runCli(["stats"], { env });
      expect({ mode: mode.toString(8), code: r.code }).toEqual({ mode: mode.toString(8), code: 1 });
      expect(r.stderr).toContain(`config file ${path} holds a database password and can be`);
      expect(r.stderr).toContain(`chmod 600 ${path}`);
      expect(r.stderr).not.toContain(SECRET);
      expect(r.stdout).toBe("");
    }
  });

  test("a ?password= parameter counts as a password", async () => {
    const env = cliEnv();
    configIn(env.HOME!, { databaseUrl: `${db.url}?password=${SECRET}` }, 0o644);
    const r = await runCli(["stats"], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("holds a database password");
  });

  test("without a password, it is used, with a warning saying how to fix it", async () => {
    const env = cliEnv();
    const path = configIn(env.HOME!, { databaseUrl: db.url }, 0o644);
    const r = await runCli(["stats", "--json"], { env });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).queued).toBe(0);
    expect(r.stderr).toBe(`warning: config file ${path} can be read by other users (mode 0644); run: chmod 600 ${path}\n`);
  });

  test("mode 0600 is used silently", async () => {
    const env = cliEnv();
    configIn(env.HOME!, { databaseUrl: db.url.replace("postgres@", `postgres:${SECRET}@`) }, 0o600);
    const r = await runCli(["stats", "--json"], { env });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  });

  test("loadConfigFile and holdsPassword, directly", () => {
    const home = tempDir("claude-jobs-home-");
    const env = { HOME: home, XDG_CONFIG_HOME: join(home, ".config") };
    configIn(home, { databaseUrl: "postgres://app@db/jobs" }, 0o620);
    const warnings: string[] = [];
    expect(loadConfigFile(env, (w) => warnings.push(w))).toEqual({ databaseUrl: "postgres://app@db/jobs" });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("can be changed by other users (mode 0620)");
    expect(holdsPassword("postgres://app:x@db/jobs")).toBe(true);
    expect(holdsPassword("postgres://app@db/jobs?password=x")).toBe(true);
    expect(holdsPassword("postgres://app@db/jobs")).toBe(false);
  });

  test("saving over a file others could read leaves it 0600, the new password never in an open file", () => {
    const home = tempDir("claude-jobs-home-");
    const env = { HOME: home, XDG_CONFIG_HOME: join(home, ".config") };
    const path = configIn(home, {}, 0o644);
    expect(saveConfigFile(env, { databaseUrl: `postgres://app:${SECRET}@db/jobs` })).toBe(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(loadConfigFile(env)).toEqual({ databaseUrl: `postgres://app:${SECRET}@db/jobs` });
  });
});

test("the library's own message for an unparseable database URL hides its password too", async () => {
  const { validateDatabaseUrl } = await import("../../src/db/connect.ts");
  let message = "";
  try {
    validateDatabaseUrl("postgres://app:s3cr3t@db.example:99999/jobs"); // no such port: not a URL
  } catch (e: unknown) {
    message = (e as Error).message;
  }
  expect(message).toContain("database URL");
  expect(message).not.toContain("s3cr3t");
});
