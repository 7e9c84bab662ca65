// Issue 10: `help <command>` is that command's help; a mistyped command, flag
// or top-level option is named, with the nearest real one suggested; the
// top-level help lists --help and --version; a port in use says so.

import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { createServer, type Server } from "node:net";
import { closest, editDistance } from "../../src/cli/options.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { runCli } from "../helpers/cli.ts";

setDefaultTimeout(30_000);

describe("help <command>", () => {
  test("`help enqueue` prints what `enqueue --help` prints", async () => {
    const [viaHelp, viaFlag] = await Promise.all([runCli(["help", "enqueue"]), runCli(["enqueue", "--help"])]);
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toBe(viaFlag.stdout);
    expect(viaHelp.stdout).toContain("--payload");
    expect(viaHelp.stdout).not.toContain("Commands:");
  });

  test("`help nosuch` exits 2 naming the command", async () => {
    const r = await runCli(["help", "nosuch"]);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: "" });
    expect(r.stderr).toContain('unknown command "nosuch"');
  });
});

describe("did you mean", () => {
  test("edit distance counts a transposition as one edit", () => {
    expect(editDistance("enqeue", "enqueue")).toBe(1);
    expect(editDistance("verison", "version")).toBe(1);
    expect(closest("wrokers", ["worker", "workers"])).toBe("workers");
    expect(closest("zzzzzz", ["worker", "workers"])).toBeUndefined();
  });

  test("an unknown command suggests the closest one", async () => {
    const r = await runCli(["enqeue"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "enqeue"; did you mean enqueue?');
  });

  test("an unknown flag of a command suggests the closest flag", async () => {
    const r = await runCli(["enqueue", "--payloda={}"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("did you mean --payload?");
  });

  test("an unknown option before any command is an unknown option, with --version suggested", async () => {
    const r = await runCli(["--verison"]);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: "" });
    expect(r.stderr).toContain("unknown option --verison; did you mean --version?");
    expect(r.stderr).not.toContain("unknown command");
  });

  test("a command's option before the command still says to put it after", async () => {
    const r = await runCli(["--database-url=postgres://x/y", "stats"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("options go after the command: claude-jobs stats --database-url=...");
  });

  test("--help lists --help and --version", async () => {
    const r = await runCli(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\s+-h, --help\s/m);
    expect(r.stdout).toMatch(/^\s+-v, --version\s/m);
  });
});

describe("a port in use", () => {
  let db: TestDatabase;
  let server: Server;
  let port: number;
  beforeAll(async () => {
    db = await createTestDatabase();
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    server.close();
    await db.drop();
  });

  test("the dashboard says the port is in use, not an unexpected error", async () => {
    const r = await runCli(["dashboard", `--port=${port}`, `--database-url=${db.url}`]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`claude-jobs dashboard: port ${port} is in use; choose another with --port`);
  });
});
