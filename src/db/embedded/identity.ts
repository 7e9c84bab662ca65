// Who the PostgreSQL server runs as, and where its files may live.
// PostgreSQL refuses to run as root, so when claude-jobs runs as root it
// creates (once) a dedicated system user `claude-jobs` and runs initdb,
// pg_ctl and postgres as that user, by passing uid/gid to spawn (Bun drops
// the supplementary groups too). A non-root user runs the server as itself.
// This module owns only that decision; it never starts anything.
import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { dirname } from "node:path";
import { EmbeddedPostgresError } from "./errors.ts";

export const SERVICE_USER = "claude-jobs";

/** The uid/gid the server runs as; `null` means "as this process". */
export type RunAs = { name: string; uid: number; gid: number } | null;

export function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

function lookup(name: string): { uid: number; gid: number } | null {
  const uid = spawnSync("id", ["-u", name], { encoding: "utf8" });
  const gid = spawnSync("id", ["-g", name], { encoding: "utf8" });
  if (uid.status !== 0 || gid.status !== 0) return null;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** useradd (Debian, Fedora, ...) or busybox adduser (Alpine). */
function createUser(name: string): string | null {
  const tries: string[][] = [
    ["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
      "--shell", "/usr/sbin/nologin", "--comment", "claude-jobs embedded PostgreSQL", name],
    ["adduser", "-S", "-D", "-H", "-h", "/nonexistent", "-s", "/sbin/nologin", name],
  ];
  const errors: string[] = [];
  for (const cmd of tries) {
    const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: "utf8" });
    if (r.status === 0) return null;
    errors.push(`${cmd[0]}: ${(r.error?.message ?? r.stderr).trim()}`);
  }
  return errors.join("; ");
}

/** As root: the service user, created if missing, and a note for the log. Otherwise null. */
export function serverRunAs(): { runAs: RunAs; note: string } {
  if (!isRoot()) return { runAs: null, note: "" };
  let ids = lookup(SERVICE_USER);
  let created = false;
  if (!ids) {
    const failure = createUser(SERVICE_USER);
    ids = lookup(SERVICE_USER);
    if (!ids) {
      throw new EmbeddedPostgresError(
        `running as root, and PostgreSQL refuses to run as root; could not create the system user ` +
          `"${SERVICE_USER}" (${failure}). Create it (useradd --system ${SERVICE_USER}), ` +
          `run claude-jobs as a non-root user, or set DATABASE_URL`,
      );
    }
    created = true;
  }
  const note =
    `running as root: the embedded PostgreSQL runs as system user "${SERVICE_USER}" ` +
    `(uid ${ids.uid}${created ? ", created now with useradd --system" : ""})`;
  return { runAs: { name: SERVICE_USER, ...ids }, note };
}

/** True when `user` can reach `path` (search permission on it and every parent). */
export function canTraverse(path: string, user: RunAs): boolean {
  if (!user) return true;
  for (let p = path; ; p = dirname(p)) {
    let st;
    try {
      st = statSync(p);
    } catch {
      return false;
    }
    const bit = st.uid === user.uid ? 0o100 : st.gid === user.gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) return false;
    if (p === dirname(p)) return true;
  }
}
