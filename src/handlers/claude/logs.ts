// The Claude runs' log files: one stdout and one stderr file per attempt,
// named {job-id}-{YYYYMMDD-HHMMSS}.{stdout|stderr}.log in the configured log
// folder. Only that folder and a validated job id ever make a path here, so a
// caller's input cannot point us at another file.
//
// Agent output holds secrets (keys it read, echoed, or was given), so the
// folder is 0700 and the files 0600, whatever the umask. A folder that is
// already looser is tightened when it holds nothing but claude-jobs logs
// (ours, from a version that made it 0755, or an empty folder made for
// them); one holding anything else (a shared folder, /tmp) is refused with
// a ConfigError: its permissions are not ours to change.

import { randomUUID } from "node:crypto";
import { chmod, mkdir, open, readdir, rm, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { ConfigError, InputError } from "../../errors.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const LOG_NAME = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-(\d{8})-(\d{6})\.(stdout|stderr)\.log$/;

export interface LogFile {
  path: string;
  name: string;
  stream: "stdout" | "stderr";
  /** The attempt's start, from the name (second precision, UTC). */
  startedAt: Date;
}

export interface AttemptLogs {
  stdoutPath: string;
  stderrPath: string;
}

/** The seed's folder: $HOME/.local/shared/claude-jobs/logs. */
export function defaultLogDir(env: Record<string, string | undefined>): string {
  return join(env.HOME || homedir(), ".local", "shared", "claude-jobs", "logs");
}

/** 2024-03-05T07:08:09Z -> "20240305-070809". */
export function logStamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
}

/** A job id as it may appear in a file name, or InputError. */
export function checkJobId(jobId: string): string {
  const id = jobId.toLowerCase();
  if (!UUID.test(id)) throw new InputError("id", `must be a job id (a UUID); got ${JSON.stringify(jobId)}`);
  return id;
}

/** Permission bits as `ls` shows them in messages: 0755. */
const octal = (mode: number) => (mode & 0o777).toString(8).padStart(4, "0");

/**
 * Makes the log folder exist with mode 0700 (parents it creates too). An
 * existing folder open to group or others is tightened to 0700 (its log
 * files to 0600) if it belongs to this user and holds only claude-jobs
 * logs; otherwise a ConfigError says what to do.
 */
export async function ensurePrivateLogDir(logDir: string): Promise<void> {
  const created = await mkdir(logDir, { recursive: true, mode: 0o700 });
  if (created !== undefined) {
    await chmod(logDir, 0o700); // whatever the umask
    return;
  }
  const st = await stat(logDir);
  if (!st.isDirectory()) throw new ConfigError(`the Claude log folder ${logDir} is not a directory; point the log folder setting at a directory`);
  if ((st.mode & 0o077) === 0) return;
  const uid = typeof process.getuid === "function" ? process.getuid() : undefined;
  const names = await readdir(logDir);
  const foreign = names.filter((name) => !LOG_NAME.test(name) && !name.startsWith(".write-test-"));
  if ((uid === undefined || st.uid === uid) && foreign.length === 0) {
    await chmod(logDir, 0o700);
    for (const name of names) await chmod(join(logDir, name), 0o600).catch(() => {});
    return;
  }
  const why = uid !== undefined && st.uid !== uid
    ? `belongs to another user (uid ${st.uid})`
    : `holds other files too (${foreign.slice(0, 3).map((n) => JSON.stringify(n)).join(", ")}${foreign.length > 3 ? ", ..." : ""})`;
  throw new ConfigError(
    `the Claude log folder ${logDir} can be read by other users (mode ${octal(st.mode)}) and ${why}, so claude-jobs does not change ` +
      `its permissions. Agent output holds secrets: chmod 700 ${logDir}, or point the log folder setting (--log-dir) at a folder of its own.`,
  );
}

/** Creates one log file, empty, mode 0600 (the CLI's output is appended to it). */
async function createPrivateFile(path: string): Promise<void> {
  const handle = await open(path, "a", 0o600);
  try {
    await handle.chmod(0o600);
  } finally {
    await handle.close();
  }
}

/**
 * The paths of one attempt's logs: the folder is made private (0700) and
 * both files are created with mode 0600 before the CLI starts writing.
 */
export async function attemptLogPaths(logDir: string, jobId: string, startedAt: Date): Promise<AttemptLogs> {
  const base = join(logDir, `${checkJobId(jobId)}-${logStamp(startedAt)}`);
  await ensurePrivateLogDir(logDir);
  const paths = { stdoutPath: `${base}.stdout.log`, stderrPath: `${base}.stderr.log` };
  await createPrivateFile(paths.stdoutPath);
  await createPrivateFile(paths.stderrPath);
  return paths;
}

/** A job's log files, oldest first (stdout before stderr within an attempt). */
export async function listLogFiles(logDir: string, jobId: string): Promise<LogFile[]> {
  const id = checkJobId(jobId);
  let names: string[];
  try {
    names = await readdir(logDir);
  } catch (e: unknown) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  const files: LogFile[] = [];
  for (const name of names) {
    const m = LOG_NAME.exec(name);
    if (!m || m[1] !== id) continue;
    const [d, t] = [m[2]!, m[3]!];
    const startedAt = new Date(`${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6)}T${t.slice(0, 2)}:${t.slice(2, 4)}:${t.slice(4)}Z`);
    files.push({ path: join(logDir, name), name, stream: m[4] as "stdout" | "stderr", startedAt });
  }
  // The stamp sorts as text; "stderr" < "stdout", so compare streams explicitly.
  return files.sort((a, b) => a.name.slice(0, 52).localeCompare(b.name.slice(0, 52)) || (a.stream === "stdout" ? -1 : 1));
}

/** Makes sure the log folder exists, is private (0700) and takes writes; ConfigError saying what to do otherwise. */
export async function preflightLogDir(logDir: string): Promise<void> {
  const probe = join(logDir, `.write-test-${randomUUID()}`);
  try {
    await ensurePrivateLogDir(logDir);
    await writeFile(probe, "ok", { mode: 0o600 });
    await rm(probe, { force: true });
  } catch (e: unknown) {
    if (e instanceof ConfigError) throw e;
    const reason = e instanceof Error ? e.message : String(e);
    throw new ConfigError(
      `the Claude log folder ${logDir} cannot be created or written (${reason}). ` +
        `Fix its permissions, or point the log folder setting at a writable directory.`,
    );
  }
}

/**
 * The last lines of a file, reading at most `maxBytes` from its end: bounded
 * whatever the file's size. Nothing before `fromOffset` (what others wrote
 * before, such as a worktree's setup output in the same log).
 */
export async function tailFile(path: string, maxLines = 20, maxBytes = 8192, fromOffset = 0): Promise<string> {
  let handle;
  try {
    handle = await open(path, "r");
    const { size } = await handle.stat();
    const length = Math.max(0, Math.min(size - fromOffset, maxBytes));
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    let lines = buffer.toString("utf8").split("\n");
    if (length < size - fromOffset) lines = lines.slice(1); // the first line is cut
    return lines.map((l) => l.trimEnd()).filter((l) => l !== "").slice(-maxLines).join("\n");
  } catch {
    return "";
  } finally {
    await handle?.close();
  }
}

/**
 * Hands `onChunk` the file's bytes from `offset` to its current end, in
 * bounded chunks read off the event loop; returns the new offset. Each chunk
 * is a fresh buffer (a reader may keep a piece of it as a partial line).
 */
export async function readFrom(path: string, offset: number, onChunk: (chunk: Buffer) => void, chunkBytes = 64 << 10): Promise<number> {
  const handle = await open(path, "r");
  try {
    for (;;) {
      const buffer = Buffer.allocUnsafe(chunkBytes);
      const { bytesRead } = await handle.read(buffer, 0, chunkBytes, offset);
      if (bytesRead === 0) return offset;
      onChunk(buffer.subarray(0, bytesRead));
      offset += bytesRead;
    }
  } finally {
    await handle.close();
  }
}
