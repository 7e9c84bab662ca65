// The wizard in a real terminal (tmux): the first run picks a PostgreSQL by
// URL, tests it, saves it (0600) and migrates; then enqueues a Claude job
// through the menu, and the database has it. Starting the worker and the
// dashboard prints the login URL. Ctrl-C at the first prompt writes nothing. Without a terminal, or with CI set, it prints the help.
// Runs from source, and once through the compiled executable on its
// embedded PostgreSQL.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import postgres from "postgres";
import { REPO } from "../helpers/engine.ts";
import { rootHome } from "../../src/db/embedded/layout.ts";
import { runCli, tempDir } from "../helpers/cli.ts";
import { emptyDatabase, ensureExecutable } from "../executable/harness.ts";
import { killTerminals, Terminal } from "./terminal.ts";

// --tsconfig-override: bun reads tsconfig.json (the dashboard's JSX settings) from the cwd, and the wizard runs elsewhere.
const FROM_SOURCE = [process.execPath, `--tsconfig-override=${join(REPO, "tsconfig.json")}`, join(REPO, "src/cli/main.ts")];
const terminals: Terminal[] = [];

function wizard(command = FROM_SOURCE, extra: Record<string, string> = {}, saved?: object) {
  const cwd = tempDir("cj-wizard-cwd-");
  const home = tempDir("cj-wizard-home-");
  chmodSync(home, 0o755); // as root, the embedded server's own user must reach its data folder
  if (saved) {
    mkdirSync(join(home, ".config", "claude-jobs"), { recursive: true, mode: 0o700 });
    writeFileSync(join(home, ".config", "claude-jobs", "config.json"), JSON.stringify(saved), { mode: 0o600 });
  }
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, XDG_CONFIG_HOME: join(home, ".config"), TERM: "xterm-256color", LANG: "C.UTF-8", ...extra };
  const term = Terminal.start(command, { env, cwd });
  terminals.push(term);
  return { term, cwd, home, configFile: join(home, ".config", "claude-jobs", "config.json") };
}

let empty: Awaited<ReturnType<typeof emptyDatabase>>;
beforeAll(async () => {
  empty = await emptyDatabase();
});
afterAll(async () => {
  for (const t of terminals) t.kill();
  killTerminals();
  await empty.drop();
});

test("first run: a typed URL is tested, saved with mode 0600 and migrated; then a job is enqueued", async () => {
  const { term, cwd, configFile } = wizard();
  await term.waitFor("Which PostgreSQL should claude-jobs use?");
  term.press("Down", "Enter"); // "Another PostgreSQL: type its URL"
  await term.waitFor("PostgreSQL URL");
  const bad = empty.url.replace(/\/[^/]+$/, "/no_such_database");
  term.type(bad);
  term.press("Enter");
  // The error is shown under the field, and what was typed stays in it to be corrected.
  const [shown] = await term.waitFor(new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}[^\\n]*\\n[^\\n]*database "no_such_database" does`));
  expect(shown).toBeDefined();
  expect(term.screen().split("PostgreSQL URL").length - 1).toBe(1); // not asked again from empty
  term.press(...bad.split("").map(() => "BSpace"));
  term.type(empty.url);
  term.press("Enter");
  await term.waitFor("Connected: PostgreSQL");
  await term.waitFor("Save this choice to");
  expect(existsSync(configFile)).toBe(false); // nothing written before "Save?"
  term.press("Enter");
  await term.waitFor("(mode 0600)");
  await term.waitFor("applied 001_jobs.sql");

  await term.waitFor("What next?");
  term.press("Down", "Enter"); // "Enqueue a Claude job"
  await term.waitFor("Prompt for Claude");
  term.type("write the release notes");
  term.press("Enter");
  await term.waitFor("Working directory");
  term.press("Enter"); // the default: where the wizard was started
  await term.waitFor("Queue");
  term.press(..."default".split("").map(() => "BSpace"));
  term.type("Bad Queue");
  term.press("Enter");
  await term.waitFor("queue: must be 1-63 characters"); // the enqueue command's own validation
  term.press(..."Bad Queue".split("").map(() => "BSpace"));
  term.type("wizard-q");
  term.press("Enter");
  await term.waitFor("Priority");
  term.press("BSpace");
  term.type("7");
  term.press("Enter");
  await term.waitFor("Delay");
  term.type("5m");
  term.press("Enter");
  const [, id] = await term.waitFor(/Enqueued job ([0-9a-f-]{36})/);

  await term.waitForCount("What next?", 1);
  term.press("Down", "Down", "Down", "Enter"); // "Quit"
  expect(await term.exitCode()).toBe(0);

  const sql = postgres(empty.url, { max: 1, onnotice: () => {} });
  try {
    const [job] = await sql`SELECT kind, queue, priority, payload, status, run_at - now() > interval '4 minutes' AS delayed FROM claude_jobs WHERE id = ${id!}`;
    expect(job).toEqual({ kind: "claude", queue: "wizard-q", priority: 7, payload: { prompt: "write the release notes", cwd }, status: "queued", delayed: true });
  } finally {
    await sql.end();
  }
  expect(statSync(configFile).mode & 0o777).toBe(0o600);
  expect(JSON.parse(readFileSync(configFile, "utf8"))).toEqual({ databaseUrl: empty.url });
}, 60_000);

test("Ctrl-C at the first prompt leaves at once and writes no config file", async () => {
  const { term, configFile } = wizard(FROM_SOURCE, { DATABASE_URL: "postgres://app:s3cret@db.example:5432/jobs" });
  await term.waitFor("Which PostgreSQL should claude-jobs use?");
  term.press("Down"); // clack shows the hint of the focused option only
  await term.waitFor("DATABASE_URL from the environment (postgres://app:***@db.example:5432/jobs)"); // offered, password hidden
  expect(term.screen()).not.toContain("s3cret");
  term.press("C-c");
  expect([0, 130]).toContain(await term.exitCode());
  expect(term.screen()).toContain("Cancelled");
  expect(existsSync(configFile)).toBe(false);
}, 30_000);

test("\"Start a worker and the dashboard\" prints the login URL once, and it signs a browser in", async () => {
  const { term, home } = wizard(FROM_SOURCE, { DATABASE_URL: empty.url });
  await term.waitFor("Which PostgreSQL should claude-jobs use?");
  term.press("Down", "Enter"); // "DATABASE_URL from the environment"
  await term.waitFor("Save this choice to");
  term.press("Right", "Enter"); // No
  await term.waitFor("What next?");
  term.press("Enter"); // "Start a worker and the dashboard"
  await term.waitFor("Dashboard port");
  term.press(..."8080".split("").map(() => "BSpace"));
  term.type("0");
  term.press("Enter");
  const [, login, base] = await term.waitFor(/open ((http:\/\/127\.0\.0\.1:\d+)\/login\?token=[\w-]+) to sign in/, 30_000);
  expect(term.screen().split("/login?token=").length - 1).toBe(1);
  expect(term.screen()).toContain(join(home, ".config", "claude-jobs", "token"));
  const r = await fetch(login!, { redirect: "manual" });
  expect(r.status).toBe(303);
  const cookie = /cj_session=[^;]+/.exec(r.headers.get("set-cookie") ?? "")?.[0];
  expect(cookie).toBeDefined();
  expect((await fetch(`${base}/`, { headers: { cookie: cookie! } })).status).toBe(200);
  term.press("C-c");
  expect(await term.exitCode()).toBe(0);
}, 60_000);

test("in a terminal with CI set, no arguments print the help instead of asking", async () => {
  const { term } = wizard(FROM_SOURCE, { CI: "1" });
  expect(await term.exitCode()).toBe(0);
  expect(term.screen()).toContain("Usage: claude-jobs <command>");
}, 30_000);

test("without a terminal (stdin a pipe), no arguments print the help and exit 0", async () => {
  const r = await runCli([], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: tempDir("cj-wizard-home-") }, stdin: "" });
  expect(r.code).toBe(0);
  expect(r.stdout).toContain("Usage: claude-jobs <command>");
}, 30_000);

test("the compiled executable runs the wizard on the embedded PostgreSQL (the default), unsaved; shows the queue", async () => {
  const exe = await ensureExecutable();
  const { term, home, configFile } = wizard([exe]);
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home };
  try {
    await term.waitFor("Which PostgreSQL should claude-jobs use?");
    term.press("Enter"); // "Embedded PostgreSQL (recommended)"
    await term.waitFor("Save this choice to");
    term.press("Right", "Enter"); // No
    await term.waitFor("Embedded PostgreSQL ready", 60_000);
    await term.waitFor("initialized a new PostgreSQL");
    await term.waitFor("What next?");
    term.press("Down", "Down", "Enter"); // "Show the queue"
    await term.waitFor("ATTEMPTS"); // the latest jobs table (empty)
    await term.waitForCount("What next?", 1);
    term.press("Up", "Enter"); // "Quit" (the list wraps around)
    expect(await term.exitCode()).toBe(0);
    expect(existsSync(configFile)).toBe(false);
  } finally {
    Bun.spawnSync([exe, "db", "stop"], { env, stdout: "ignore", stderr: "ignore" });
    rmSync(rootHome(join(home, ".local", "share", "claude-jobs")), { recursive: true, force: true });
  }
}, 180_000);

test("the embedded choice is saved as {\"database\":\"embedded\"}, and read back on the next run", async () => {
  // A data folder that cannot exist: the embedded PostgreSQL fails at once, after the save.
  const { term, configFile } = wizard(FROM_SOURCE, { CLAUDE_JOBS_DATA_DIR: "/dev/null/claude-jobs" });
  await term.waitFor("Which PostgreSQL should claude-jobs use?");
  term.press("Enter"); // "Embedded PostgreSQL (recommended)"
  await term.waitFor("Save this choice to");
  term.press("Enter"); // Yes
  await term.waitFor("(mode 0600)");
  expect(await term.exitCode()).toBe(1);
  expect(JSON.parse(readFileSync(configFile, "utf8"))).toEqual({ database: "embedded" });
}, 30_000);

test("a second run says which saved configuration it uses and offers to keep or change it", async () => {
  const { term, configFile } = wizard(FROM_SOURCE, {}, { databaseUrl: empty.url });
  await term.waitFor(`using the saved configuration in ${configFile} (PostgreSQL at `);
  await term.waitFor("Keep the saved configuration?");
  term.press("Enter"); // Keep it
  await term.waitFor("Connected: PostgreSQL");
  await term.waitFor("What next?");
  expect(term.screen()).not.toContain("Save this choice to"); // nothing new to save
  term.press("Up", "Enter"); // "Quit"
  expect(await term.exitCode()).toBe(0);
  expect(JSON.parse(readFileSync(configFile, "utf8"))).toEqual({ databaseUrl: empty.url });
}, 60_000);

test("a saved embedded choice is named, and \"Change it\" asks again", async () => {
  const { term, configFile } = wizard(FROM_SOURCE, {}, { database: "embedded" });
  await term.waitFor(`using the saved configuration in ${configFile} (the embedded PostgreSQL)`);
  await term.waitFor("Keep the saved configuration?");
  term.press("Down", "Enter"); // Change it
  await term.waitFor("Which PostgreSQL should claude-jobs use?");
  term.press("C-c");
  expect([0, 130]).toContain(await term.exitCode());
  expect(JSON.parse(readFileSync(configFile, "utf8"))).toEqual({ database: "embedded" });
}, 30_000);

test("a dashboard port in use is named at the port prompt, not an unexpected error", async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  try {
    const { term } = wizard(FROM_SOURCE, { DATABASE_URL: empty.url });
    await term.waitFor("Which PostgreSQL should claude-jobs use?");
    term.press("Down", "Enter"); // "DATABASE_URL from the environment"
    await term.waitFor("Save this choice to");
    term.press("Right", "Enter"); // No
    await term.waitFor("What next?");
    term.press("Enter"); // "Start a worker and the dashboard"
    await term.waitFor("Dashboard port");
    term.press(..."8080".split("").map(() => "BSpace"));
    term.type(String(port));
    term.press("Enter");
    await term.waitFor(`port ${port} is in use; choose another`);
    expect(term.screen()).not.toContain("unexpected error");
    term.press("C-c");
    expect([0, 130]).toContain(await term.exitCode());
  } finally {
    server.close();
  }
}, 60_000);
