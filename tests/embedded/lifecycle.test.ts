// The embedded PostgreSQL in one process: first start, restart with the data
// kept, a taken port, and the one-line errors for folders it cannot use.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { startEmbeddedPostgres } from "../../src/db/embedded/index.ts";
import { cleanUp, query, tempDataDir } from "./helpers.ts";

afterAll(cleanUp);

describe("embedded PostgreSQL", () => {
  test("a first start initializes the data folder and answers SELECT 1", async () => {
    const dataDir = tempDataDir();
    const lines: string[] = [];
    const began = performance.now();
    const pg = await startEmbeddedPostgres({ dataDir, log: (l) => lines.push(l) });
    const ms = Math.round(performance.now() - began);
    console.log(`[measure] empty data folder -> accepting connections: ${ms} ms`);

    expect(pg.started).toBe(true);
    expect(pg.url).toStartWith("postgres://postgres:");
    expect(pg.url).toContain("@127.0.0.1:");
    expect(await query(pg.url, "select 1 as one")).toEqual([{ one: 1 }]);
    expect(lines.some((l) => l.startsWith("initialized a new PostgreSQL"))).toBe(true);
    expect(await query(pg.url, "show listen_addresses")).toEqual([{ listen_addresses: "127.0.0.1" }]);
    const mode = Bun.file(join(dataDir, "embedded-postgres.password"));
    expect((await mode.stat()).mode & 0o777).toBe(0o600);
  });

  test("its data survive a stop and a start", async () => {
    const dataDir = tempDataDir();
    const first = await startEmbeddedPostgres({ dataDir });
    await query(first.url, "create table kept (v text); insert into kept values ('still here')");
    await first.stop();

    const second = await startEmbeddedPostgres({ dataDir });
    expect(second.started).toBe(true);
    expect(second.url).toBe(first.url); // same port when it is still free: the URL is stable
    expect(await query(second.url, "select v from kept")).toEqual([{ v: "still here" }]);
  });

  test("a taken port is replaced by a free one on the next start", async () => {
    const dataDir = tempDataDir();
    const first = await startEmbeddedPostgres({ dataDir });
    await first.stop();
    const squatter = createServer().listen(first.port, "127.0.0.1");
    await new Promise((r) => squatter.once("listening", r));
    try {
      const second = await startEmbeddedPostgres({ dataDir });
      expect(second.port).not.toBe(first.port);
      expect(await query(second.url, "select 1 as one")).toEqual([{ one: 1 }]);
    } finally {
      squatter.close();
    }
  });

  test("a data folder that cannot be created gets a one-line error naming it", async () => {
    const parent = tempDataDir();
    mkdirSync(parent, { recursive: true });
    writeFileSync(join(parent, "a-file"), "");
    const dataDir = join(parent, "a-file", "claude-jobs");
    const error = await startEmbeddedPostgres({ dataDir }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain(`cannot write to the data folder ${dataDir} (ENOTDIR)`);
    expect((error as Error).message).not.toContain("\n");
  });

  test("a folder in place of the cluster is refused with what to do", async () => {
    const dataDir = tempDataDir();
    mkdirSync(join(dataDir, "pg"), { recursive: true });
    writeFileSync(join(dataDir, "pg", "something"), "not a cluster");
    const error = await startEmbeddedPostgres({ dataDir }).catch((e: Error) => e);
    expect((error as Error).message).toContain("is not a PostgreSQL data folder");
    expect((error as Error).message).toContain("move it away");
  });

  test("a damaged cluster is refused with the server's reason and what to do", async () => {
    const dataDir = tempDataDir();
    const pg = await startEmbeddedPostgres({ dataDir });
    await pg.stop();
    writeFileSync(join(dataDir, "pg", "global", "pg_control"), "garbage");
    const error = await startEmbeddedPostgres({ dataDir }).catch((e: Error) => e);
    const message = (error as Error).message;
    expect(message).toContain("would not start");
    expect(message).toContain("move");
    expect(message).not.toContain("\n");
    expect(readFileSync(join(dataDir, "pg", "server.log"), "utf8")).toContain("pg_control");
  });
});
