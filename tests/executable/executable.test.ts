// The compiled executable, run as a user would: from a folder with no
// node_modules, no bun on PATH, a stray .env and bunfig.toml it must ignore.
// Against a test database: migrate, enqueue, a worker runs the job with the
// fake Claude CLI, the dashboard answers and its login URL signs in. Against its own embedded PostgreSQL:
// no URL anywhere, it starts one, migrates, enqueues and counts.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, rmSync } from "node:fs";
import postgres from "postgres";
import pkg from "../../package.json" with { type: "json" };
import { waitFor } from "../helpers/wait.ts";
import { rootHome } from "../../src/db/embedded/layout.ts";
import { emptyDatabase, ensureExecutable, run, sandbox, start, type Sandbox } from "./harness.ts";
import { join } from "node:path";

let box: Sandbox;
beforeAll(async () => {
  await ensureExecutable();
  box = await sandbox();
}, 180_000);
afterAll(() => rmSync(box.dir, { recursive: true, force: true }));

test("the sandbox really has no bun on PATH", () => {
  expect(Bun.which("bun", { PATH: box.env.PATH })).toBeNull();
});

test("--version prints the package version", async () => {
  const r = await run(box, ["--version"]);
  expect(r).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: "" });
}, 30_000);

test("with no arguments and no terminal it prints the help and exits 0", async () => {
  const r = await run(box, []);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain("Usage: claude-jobs <command>");
}, 30_000);

describe("against a PostgreSQL URL", () => {
  let db: Awaited<ReturnType<typeof emptyDatabase>>;
  let sql: postgres.Sql;
  beforeAll(async () => {
    db = await emptyDatabase();
    sql = postgres(db.url, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await sql.end();
    await db.drop();
  });

  test("migrate, enqueue, and a worker runs the job with the fake Claude", async () => {
    const url = `--database-url=${db.url}`;
    const migrated = await run(box, ["migrate", url]);
    expect(migrated.stderr).toBe("");
    expect(migrated.stdout).toContain("applied 001_jobs.sql");

    // The job runs in a subfolder: the fake Claude is a bun script, and bun would read the sandbox's bunfig.toml.
    mkdirSync(join(box.dir, "project"));
    const enq = await run(box, ["enqueue", url, `--payload=${JSON.stringify({ prompt: "hello from the executable", cwd: "project" })}`]);
    expect(enq.code).toBe(0);
    const id = enq.stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);

    const worker = start(box, ["worker", url, "--poll-interval=200ms"]);
    try {
      const row = await waitFor("the job to finish", async () => {
        const [r] = await sql`SELECT status, result, payload, errors FROM claude_jobs WHERE id = ${id}`;
        return r && r.status !== "queued" && r.status !== "running" ? r : null;
      }, { timeoutMs: 20_000 });
      expect({ status: row.status, errors: row.errors }).toEqual({ status: "finished", errors: [] });
      expect(JSON.stringify(row.result)).toContain("echo: hello from the executable");
      expect(row.payload.cwd).toBe(join(box.dir, "project")); // resolved where the executable ran
    } finally {
      worker.proc.kill("SIGTERM");
    }
    expect(await worker.proc.exited).toBe(0);
    expect(worker.stderr()).toContain("stopped");
  }, 60_000);

  test("the dashboard answers /healthz, serves its assets from inside the executable, and its login URL signs in", async () => {
    const dash = start(box, ["dashboard", `--database-url=${db.url}`, "--port=0"]);
    try {
      const base = await waitFor("the dashboard URL", () => /listening on (http:\/\/\S+)/.exec(dash.stderr())?.[1], { timeoutMs: 15_000 });
      const health = await fetch(`${base}/healthz`);
      expect(health.status).toBe(200);
      const htmx = await fetch(`${base}/assets/htmx.min.js`);
      expect(htmx.status).toBe(200);
      expect((await htmx.text()).length).toBeGreaterThan(10_000);
      expect((await fetch(`${base}/assets/style.css`)).status).toBe(200);
      // Everything else needs the token: the login URL it printed signs in.
      expect((await fetch(`${base}/api/stats`)).status).toBe(401);
      const login = await waitFor("the login URL", () => /open (http:\/\/\S+\/login\?token=\S+) to sign in/.exec(dash.stderr())?.[1], { timeoutMs: 5000 });
      const signedIn = await fetch(login, { redirect: "manual" });
      const cookie = /cj_session=[^;]+/.exec(signedIn.headers.get("set-cookie") ?? "")?.[0];
      expect(cookie).toBeDefined();
      expect((await fetch(`${base}/`, { headers: { cookie: cookie! } })).status).toBe(200);
    } finally {
      dash.proc.kill("SIGTERM");
    }
    expect(await dash.proc.exited).toBe(0);
  }, 30_000);
});

describe("on its own embedded PostgreSQL (no URL anywhere, .env in the folder ignored)", () => {
  const dataDir = () => join(box.env.XDG_DATA_HOME!, "claude-jobs");
  afterAll(async () => {
    await run(box, ["db", "stop"]);
    rmSync(rootHome(dataDir()), { recursive: true, force: true }); // if, as root, it had to live there
  });

  test("starts it, migrates, enqueues and counts", async () => {
    const first = await run(box, ["stats", "--json"]);
    expect(first.stderr).not.toContain("bogus");
    expect(first.code).toBe(0);
    expect(first.stderr).toContain("initialized a new PostgreSQL");
    expect(JSON.parse(first.stdout).queued).toBe(0);

    const enq = await run(box, ["enqueue", `--payload=${JSON.stringify({ prompt: "on the embedded one", cwd: "." })}`, "--queue=emb"]);
    expect(enq.code).toBe(0);
    // Attached to the running server: silent about it (the one line left says no worker serves queue emb).
    expect(enq.stderr.split("\n").filter((l) => l !== "" && !l.startsWith("warning: no live worker handles"))).toEqual([]);

    const stats = await run(box, ["stats", "--json"]);
    expect(JSON.parse(stats.stdout).queued).toBe(1);
    const status = await run(box, ["db", "status", "--json"]);
    expect(JSON.parse(status.stdout).dataDir).toBe(dataDir());
  }, 120_000);
});
