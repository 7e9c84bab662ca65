// Shared fixtures of the embedded PostgreSQL tests: throw-away data folders
// (never the system PostgreSQL), child processes, and a query helper.
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { stopEmbeddedPostgres } from "../../src/db/embedded/index.ts";
import { rootHome } from "../../src/db/embedded/layout.ts";

const made: string[] = [];

/** A fresh data folder. Mode 0755 so that, as root, the server user can reach it. */
export function tempDataDir(): string {
  const parent = mkdtempSync(join(tmpdir(), "cj-embedded-"));
  chmodSync(parent, 0o755);
  made.push(parent);
  return join(parent, "claude-jobs");
}

/** Stops every server the tests started and removes their folders. */
export async function cleanUp(): Promise<void> {
  for (const parent of made.splice(0)) {
    const dataDir = join(parent, "claude-jobs");
    await stopEmbeddedPostgres({ dataDir }).catch(() => {});
    rmSync(parent, { recursive: true, force: true });
    rmSync(rootHome(dataDir), { recursive: true, force: true }); // if root had to move it there
  }
}

export async function query<T = Record<string, unknown>>(url: string, text: string): Promise<T[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return (await sql.unsafe(text)) as unknown as T[];
  } finally {
    await sql.end();
  }
}

export type ChildResult = { url: string; pid: number; port: number; started: boolean; ms: number };

const CHILD = join(import.meta.dir, "start-child.ts");

export function spawnChild(dataDir: string, hold = false) {
  return Bun.spawn([process.execPath, CHILD, dataDir, ...(hold ? ["hold"] : [])], {
    stdout: "pipe",
    stderr: "pipe",
  });
}

/** Runs a child to completion and parses its JSON line. */
export async function runChild(dataDir: string): Promise<ChildResult> {
  const child = spawnChild(dataDir);
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  if (code !== 0) throw new Error(`child exited ${code}: ${err}`);
  return JSON.parse(out.trim().split("\n").at(-1)!);
}
