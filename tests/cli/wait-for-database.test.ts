// `worker` and `serve` started before their PostgreSQL is up (systemd,
// compose): they say once that they are waiting, retry with backoff, and run
// jobs once it answers; a signal while waiting exits 0. A server that answers
// no (no such database, no such role) is not waited for: one line, exit 1.
// Short commands (enqueue, list) still fail at once. The "server" that comes
// up is a TCP proxy to the test PostgreSQL that refuses connections until
// mended.

import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Queue } from "../../src/queue/client.ts";
import { createTestDatabase, urlFor, type TestDatabase } from "../helpers/db.ts";
import { jobRow, type Child } from "../helpers/engine.ts";
import { CuttableProxy } from "../helpers/proxy.ts";
import { cliEnv, runCli, spawnCli, tempDir } from "../helpers/cli.ts";
import { waitFor } from "../helpers/wait.ts";

setDefaultTimeout(60_000);

let db: TestDatabase;
let proxy: CuttableProxy;
const children: Child[] = [];
const PASSWORD = "s3cret-pw"; // trust auth ignores it; it must never be printed

beforeAll(async () => {
  db = await createTestDatabase();
  proxy = await new CuttableProxy().start();
});
afterEach(async () => {
  for (const c of children.splice(0)) {
    c.proc.kill("SIGTERM");
    const exited = await Promise.race([c.exited.then(() => true), Bun.sleep(10_000).then(() => false)]);
    if (!exited) c.proc.kill("SIGKILL");
    await c.exited;
  }
  await proxy.cut(); // every test starts with nothing listening on the proxy's port
});
afterAll(async () => {
  await proxy.stop();
  await db.drop();
});

/** The test database through the proxy, with a password in the URL. */
function proxiedUrl(): string {
  const url = new URL(proxy.urlFor(db.name));
  url.password = PASSWORD;
  return url.toString();
}

function start(args: string[]): Child {
  const child = spawnCli(args, cliEnv());
  children.push(child);
  return child;
}

const waitingLine = () => `waiting for PostgreSQL at 127.0.0.1:${proxy.port} (connection refused); retrying`;
const count = (text: string, part: string) => text.split(part).length - 1;
const oneLine = (text: string) => text.trim().split("\n").length === 1;
const running = (c: Child) => c.proc.exitCode === null && c.proc.signalCode === null;

describe("worker and serve wait for a PostgreSQL that is not up yet", () => {
  test("the worker says once that it waits, keeps running, then reaches the server and runs a job", async () => {
    await proxy.cut();
    const worker = start(["worker", `--database-url=${proxiedUrl()}`, `--log-dir=${tempDir("claude-jobs-logs-")}`, "--poll-interval=200ms"]);
    await waitFor("the waiting line", () => worker.stderr().includes(waitingLine()), { timeoutMs: 15_000 });
    await Bun.sleep(2000); // several refused attempts (0.5s, 1s, ...)
    expect(running(worker)).toBe(true);
    expect(count(worker.stderr(), "waiting for PostgreSQL")).toBe(1);
    expect(worker.stderr()).not.toContain("started");

    await proxy.mend();
    await waitFor("the worker to reach the server and start", () => /worker \d+ started/.test(worker.stderr()), { timeoutMs: 20_000 });
    expect(worker.stderr()).toContain(`reached PostgreSQL at 127.0.0.1:${proxy.port}`);
    const id = await new Queue(db.sql).enqueue({ payload: { prompt: "hello", cwd: tempDir("claude-jobs-cwd-") } });
    await waitFor("the job to finish", async () => (await jobRow(db.sql, id)).status === "finished", { timeoutMs: 15_000 });

    worker.proc.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
    expect(count(worker.stderr(), "waiting for PostgreSQL")).toBe(1);
    expect(worker.stderr()).not.toContain(PASSWORD);
  });

  for (const command of ["worker", "serve"]) {
    test(`a signal while ${command} waits exits 0 at once`, async () => {
      await proxy.cut();
      const child = start([command, `--database-url=${proxiedUrl()}`, `--log-dir=${tempDir("claude-jobs-logs-")}`,
        ...(command === "serve" ? ["--port=0"] : [])]);
      await waitFor("the waiting line", () => child.stderr().includes(waitingLine()), { timeoutMs: 15_000 });
      const t0 = Date.now();
      child.proc.kill("SIGINT");
      expect(await child.exited).toBe(0);
      expect(Date.now() - t0).toBeLessThan(3000); // not the next attempt of the backoff
      expect(child.stderr()).toContain("stopped before reaching PostgreSQL");
      expect(child.stdout()).toBe("");
    });
  }
});

describe("what is not waited for", () => {
  const fails: [string, () => string][] = [
    ["a missing database (3D000)", () => urlFor("no_such_db")],
    // Under trust auth a role that does not exist is the 28000 this server can give.
    ["an unknown role (28000)", () => {
      const url = new URL(urlFor(db.name));
      url.username = "no_such_role";
      url.password = PASSWORD;
      return url.toString();
    }],
  ];
  for (const [what, url] of fails) {
    test(`worker: ${what} is one line and exit 1 at once`, async () => {
      const t0 = Date.now();
      const r = await runCli(["worker", `--database-url=${url()}`, `--log-dir=${tempDir("claude-jobs-logs-")}`]);
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 1, stdout: "" });
      expect(Date.now() - t0).toBeLessThan(10_000); // startup only: no backoff
      expect(oneLine(r.stderr)).toBe(true);
      expect(r.stderr).toContain("does not exist");
      expect(r.stderr).not.toContain("waiting");
      expect(r.stderr).not.toContain(PASSWORD);
    });
  }

  test("worker: a database URL that is not a postgres URL is one line and a non-zero exit at once", async () => {
    const r = await runCli(["worker", "--database-url=mysql://localhost/db"]);
    expect(r.code).not.toBe(0);
    expect(oneLine(r.stderr)).toBe(true);
    expect(r.stderr).not.toContain("waiting");
  });

  test("enqueue and list against a port where nothing listens fail at once with exit 1", async () => {
    await proxy.cut();
    const payload = JSON.stringify({ prompt: "x", cwd: tempDir("claude-jobs-cwd-") });
    for (const args of [["enqueue", `--payload=${payload}`], ["list"]]) {
      const r = await runCli([...args, `--database-url=${proxiedUrl()}`]);
      expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 1, stdout: "" });
      expect(oneLine(r.stderr)).toBe(true);
      expect(r.stderr).toContain("cannot connect to PostgreSQL");
      expect(r.stderr).not.toContain("waiting");
      expect(r.stderr).not.toContain(PASSWORD);
    }
  });
});
