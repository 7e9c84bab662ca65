// `db status` only reports: on a fresh HOME it creates nothing and starts
// nothing; on a stopped server it says stopped; on a running one, running.
// Exit 0 only when running (3 otherwise, as pg_ctl status does).

import { afterAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { embeddedPostgresStatus, startEmbeddedPostgres } from "../../src/db/embedded/index.ts";
import { runCli } from "../helpers/cli.ts";
import { cleanUp, tempDataDir } from "./helpers.ts";

afterAll(cleanUp);

test("db status on a fresh data folder creates and starts nothing; then stopped, then running", async () => {
  const dataDir = join(tempDataDir(), "never-made");
  const fresh = await runCli(["db", "status", `--data-dir=${dataDir}`]);
  expect(fresh.code).toBe(3);
  expect(fresh.stdout).toContain("not created yet");
  expect(existsSync(dataDir)).toBe(false);
  expect((await embeddedPostgresStatus(dataDir)).state).toBe("absent");

  const pg = await startEmbeddedPostgres({ dataDir });
  try {
    const running = await runCli(["db", "status", `--data-dir=${dataDir}`, "--json"]);
    expect(running.code).toBe(0);
    const status = JSON.parse(running.stdout);
    expect(status).toMatchObject({ state: "running", pid: pg.pid, port: pg.port });
    expect(status.url).not.toContain(new URL(pg.url).password); // redacted
  } finally {
    await pg.stop();
  }
  const stopped = await runCli(["db", "status", `--data-dir=${dataDir}`]);
  expect(stopped.code).toBe(3);
  expect(stopped.stdout).toContain("stopped");
}, 120_000);
