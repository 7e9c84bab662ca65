// Running as root (as on this machine and in CI): PostgreSQL refuses root, so
// the server runs as the system user claude-jobs, and its cluster moves to
// /var/lib/claude-jobs/<hash> when that user cannot reach the data folder.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { startEmbeddedPostgres, stopEmbeddedPostgres } from "../../src/db/embedded/index.ts";
import { rootHome } from "../../src/db/embedded/layout.ts";
import { cleanUp, query, tempDataDir } from "./helpers.ts";

const asRoot = process.getuid?.() === 0;

afterAll(cleanUp);

function uidOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("Uid:"));
  return Number(line!.split(/\s+/)[1]);
}

describe.if(asRoot)("embedded PostgreSQL started by root", () => {
  test("runs the server as the system user claude-jobs and says so", async () => {
    const dataDir = tempDataDir();
    const lines: string[] = [];
    const pg = await startEmbeddedPostgres({ dataDir, log: (l) => lines.push(l) });
    const serviceUid = statSync(join(dataDir, "pg")).uid;

    expect(serviceUid).not.toBe(0);
    expect(uidOf(pg.pid)).toBe(serviceUid);
    expect(lines.filter((l) => l.startsWith("running as root"))).toHaveLength(1);
    expect(lines[0]).toContain('system user "claude-jobs"');
    expect(await query(pg.url, "select current_user as u")).toEqual([{ u: "postgres" }]);
    expect(statSync(join(dataDir, "embedded-postgres.password")).uid).toBe(0);
  });

  test("moves the cluster to /var/lib/claude-jobs when the data folder is out of its reach", async () => {
    const parent = tempDataDir();
    mkdirSync(parent, { recursive: true });
    chmodSync(parent, 0o700); // like /root
    const dataDir = join(parent, "inner");
    const home = rootHome(dataDir);
    try {
      const lines: string[] = [];
      const pg = await startEmbeddedPostgres({ dataDir, log: (l) => lines.push(l) });
      expect(lines[0]).toContain(`with its cluster in ${home}/pg (it cannot reach ${dataDir})`);
      expect(existsSync(join(home, "pg", "PG_VERSION"))).toBe(true);
      expect(await query(pg.url, "select 1 as one")).toEqual([{ one: 1 }]);
    } finally {
      await stopEmbeddedPostgres({ dataDir });
      rmSync(home, { recursive: true, force: true });
    }
  });
});
