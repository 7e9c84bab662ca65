// The PostgreSQL cluster (PGDATA) of the embedded server: created once with
// initdb, checked before every start. initdb writes into pg.init-<pid> and
// the folder is renamed to pg/ only when complete, so a process killed in the
// middle of initdb leaves a leftover that the next start deletes, never a
// half cluster. The generated password is saved (0600) before the rename, so
// a cluster never exists without the file that opens it.
// Called only under the start lock (lock.ts).
import { randomBytes } from "node:crypto";
import { appendFileSync, chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync,
  renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EmbeddedPostgresError, folderError } from "./errors.ts";
import type { Context } from "./layout.ts";
import { runTool } from "./layout.ts";
import { pidAlive } from "./lock.ts";

/** Server settings: TCP on loopback only, no unix socket (nothing in /tmp). */
const SETTINGS = `
# claude-jobs embedded PostgreSQL
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
password_encryption = 'scram-sha-256'
`;

export function readPassword(ctx: Context): string {
  try {
    return readFileSync(ctx.passwordFile, "utf8").trim();
  } catch (e: unknown) {
    throw new EmbeddedPostgresError(
      `the cluster ${ctx.cluster} exists but its password file ${ctx.passwordFile} cannot be read ` +
        `(${(e as NodeJS.ErrnoException).code}): restore it, or move ${ctx.cluster} away to start an empty database`,
      { cause: e },
    );
  }
}

/** Refuses a pg/ that is not a cluster of this PostgreSQL major version. */
function checkCluster(ctx: Context): void {
  const versionFile = join(ctx.cluster, "PG_VERSION");
  if (!existsSync(versionFile)) {
    throw new EmbeddedPostgresError(
      `${ctx.cluster} is not a PostgreSQL data folder (no PG_VERSION): move it away to start an empty database`,
    );
  }
  const clusterMajor = readFileSync(versionFile, "utf8").trim();
  const binMajor = ctx.runtime.version.split(".")[0];
  if (clusterMajor !== binMajor) {
    throw new EmbeddedPostgresError(
      `${ctx.cluster} was made by PostgreSQL ${clusterMajor}, this claude-jobs carries ${binMajor}: ` +
        `dump it with pg_dump ${clusterMajor}, move it away, and restore into the new one`,
    );
  }
}

/**
 * Deletes pg.init-<pid> folders whose process died. Best effort: an orphaned
 * initdb may still be writing into one; it is never renamed into place.
 */
function removeDeadInits(ctx: Context): void {
  for (const name of readdirSync(ctx.home)) {
    const m = /^pg\.init-(\d+)$/.exec(name);
    if (!m || pidAlive(Number(m[1]))) continue;
    try {
      rmSync(join(ctx.home, name), { recursive: true, force: true, maxRetries: 3 });
    } catch {
      /* next time */
    }
  }
}

/** A folder the server user owns: PostgreSQL insists on owning PGDATA. */
function serverOwnedDir(ctx: Context, path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  if (ctx.runAs) chownSync(path, ctx.runAs.uid, ctx.runAs.gid);
}

function initdb(ctx: Context, tmp: string, password: string): void {
  const pwfile = join(tmp, "..", `.pwfile-${process.pid}`);
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (ctx.runAs) chownSync(pwfile, ctx.runAs.uid, ctx.runAs.gid);
  try {
    const r = runTool(ctx, "initdb", ["-D", tmp, "-U", "postgres", "-A", "scram-sha-256",
      `--pwfile=${pwfile}`, "-E", "UTF8", "--no-locale", "--no-instructions"]);
    if (r.code !== 0) {
      throw new EmbeddedPostgresError(`initdb failed in ${tmp}: ${lastLine(r.output)}`);
    }
  } finally {
    rmSync(pwfile, { force: true });
  }
  appendFileSync(join(tmp, "postgresql.conf"), SETTINGS);
}

/** Creates the cluster if there is none; checks it if there is. Returns true if created. */
export function ensureCluster(ctx: Context): boolean {
  if (existsSync(ctx.cluster)) {
    checkCluster(ctx);
    return false;
  }
  const started = performance.now();
  const tmp = join(ctx.home, `pg.init-${process.pid}`);
  const password = randomBytes(24).toString("hex");
  try {
    removeDeadInits(ctx);
    rmSync(tmp, { recursive: true, force: true });
    serverOwnedDir(ctx, tmp);
  } catch (e: unknown) {
    throw folderError("create the database folder", tmp, e);
  }
  try {
    initdb(ctx, tmp, password);
    writeFileSync(`${ctx.passwordFile}.tmp`, `${password}\n`, { mode: 0o600 });
    chmodSync(`${ctx.passwordFile}.tmp`, 0o600);
    renameSync(`${ctx.passwordFile}.tmp`, ctx.passwordFile);
    renameSync(tmp, ctx.cluster);
  } catch (e: unknown) {
    rmSync(tmp, { recursive: true, force: true });
    if (e instanceof EmbeddedPostgresError) throw e;
    throw folderError("initialize the database in", ctx.home, e);
  }
  const ms = Math.round(performance.now() - started);
  ctx.log(`initialized a new PostgreSQL ${ctx.runtime.version} cluster in ${ctx.cluster} (${ms} ms)`);
  return true;
}

export function lastLine(output: string): string {
  const lines = output.split("\n").map((l) => l.trim()).filter(Boolean);
  const important = lines.filter((l) => /FATAL|PANIC|ERROR|error|could not/.test(l));
  const line = important.at(-1) ?? lines.at(-1) ?? "no output";
  // "2026-11-29 19:05:41.940 UTC [9656] PANIC:  could not ..." -> "PANIC: could not ..."
  return line.replace(/^\d{4}-\d\d-\d\d [\d:.]+ \S+ \[\d+\] /, "").replace(/\s+/g, " ").slice(0, 300);
}
