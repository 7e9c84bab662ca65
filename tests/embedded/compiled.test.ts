// The compiled-executable path: a `bun build --compile` program that carries
// the packed PostgreSQL runtime as an asset starts the embedded server from a
// folder with no node_modules, unpacking the binaries into the data folder.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packRuntime } from "../../src/db/embedded/pack-runtime.ts";
import { cleanUp, query, tempDataDir } from "./helpers.ts";

const buildDir = mkdtempSync(join(tmpdir(), "cj-embedded-build-"));
afterAll(async () => {
  await cleanUp();
  rmSync(buildDir, { recursive: true, force: true });
});

test("a compiled program carrying the runtime tarball starts the server without node_modules", async () => {
  const tarball = await packRuntime(buildDir);
  const exe = join(buildDir, "embedded-check");
  const build = Bun.spawnSync([process.execPath, "build", "--compile", join(import.meta.dir, "start-child.ts"),
    tarball, "--asset-naming=[name].[ext]", "--outfile", exe], { stderr: "pipe" });
  expect(build.exitCode).toBe(0);

  const dataDir = tempDataDir();
  const run = Bun.spawnSync([exe, dataDir], { cwd: buildDir, stderr: "pipe" });
  expect(run.stderr.toString()).toContain("initialized a new PostgreSQL");
  expect(run.exitCode).toBe(0);
  const result = JSON.parse(run.stdout.toString().trim());
  expect(result.started).toBe(true);
  expect(existsSync(join(dataDir, "runtime", tarball.match(/pg-runtime-(.+)\.tgz$/)![1]!, "bin", "postgres"))).toBe(true);
  expect(await query(result.url, "select 1 as one")).toEqual([{ one: 1 }]);
}, 120_000);
