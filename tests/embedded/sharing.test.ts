// Several claude-jobs processes and one embedded server: they share it, and
// no process killed with SIGKILL (a starter, or the server itself) leaves the
// data folder unusable for the next start.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startEmbeddedPostgres } from "../../src/db/embedded/index.ts";
import { cleanUp, query, runChild, spawnChild, tempDataDir } from "./helpers.ts";

afterAll(cleanUp);

describe("embedded PostgreSQL shared by processes", () => {
  test("two processes starting at once share one server", async () => {
    const dataDir = tempDataDir();
    const [a, b] = await Promise.all([runChild(dataDir), runChild(dataDir)]);
    expect(a.pid).toBe(b.pid);
    expect(a.url).toBe(b.url);
    expect([a.started, b.started].sort()).toEqual([false, true]);
    expect(await query(a.url, "select 1 as one")).toEqual([{ one: 1 }]);

    const third = await runChild(dataDir);
    console.log(`[measure] another process attaches to the running server in ${third.ms} ms`);
    expect(third.started).toBe(false);
    expect(third.pid).toBe(a.pid);
  });

  test("the server outlives the process that started it", async () => {
    const dataDir = tempDataDir();
    const starter = spawnChild(dataDir, true);
    const line = await readLine(starter.stdout);
    const first = JSON.parse(line);
    starter.kill("SIGKILL");
    await starter.exited;
    const again = await startEmbeddedPostgres({ dataDir });
    expect(again.started).toBe(false);
    expect(again.pid).toBe(first.pid);
  });

  test("a starter SIGKILLed in the middle of initdb leaves a folder that starts again", async () => {
    const dataDir = tempDataDir();
    const starter = spawnChild(dataDir);
    await waitFor(() => existsSync(dataDir) && readdirSync(dataDir).includes("embedded-postgres.lock"));
    await Bun.sleep(300); // inside initdb (it takes about a second)
    starter.kill("SIGKILL");
    await starter.exited;

    const pg = await startEmbeddedPostgres({ dataDir });
    expect(await query(pg.url, "select 1 as one")).toEqual([{ one: 1 }]);
  });

  test("a SIGKILLed server restarts with its committed data", async () => {
    const dataDir = tempDataDir();
    const first = await startEmbeddedPostgres({ dataDir });
    await query(first.url, "create table kept (v int); insert into kept values (42)");
    process.kill(first.pid, "SIGKILL");
    await waitFor(() => !alive(first.pid));

    const second = await startEmbeddedPostgres({ dataDir });
    expect(second.started).toBe(true);
    expect(await query(second.url, "select v from kept")).toEqual([{ v: 42 }]);
  });

  test("a stale lock and a pid file naming another live program do not block a start", async () => {
    const dataDir = tempDataDir();
    const first = await startEmbeddedPostgres({ dataDir });
    process.kill(first.pid, "SIGKILL");
    await waitFor(() => !alive(first.pid));
    writeFileSync(join(dataDir, "embedded-postgres.lock"), `999999 ${Date.now()}\n`);
    // As after a reboot: the old pid now belongs to someone else (this test runner).
    const pidFile = join(dataDir, "pg", "postmaster.pid");
    const lines = (await Bun.file(pidFile).text()).split("\n");
    lines[0] = String(process.pid);
    writeFileSync(pidFile, lines.join("\n"));

    const second = await startEmbeddedPostgres({ dataDir });
    expect(await query(second.url, "select 1 as one")).toEqual([{ one: 1 }]);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await Bun.sleep(10);
  }
}

async function readLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  for await (const chunk of stream) {
    text += new TextDecoder().decode(chunk);
    if (text.includes("\n")) return text.split("\n")[0]!;
  }
  return text;
}
