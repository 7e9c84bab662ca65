// The Claude runs' log files: one stdout and one stderr file per attempt,
// named {job-id}-{YYYYMMDD-HHMMSS}.{stdout|stderr}.log in the configured log
// folder. Only that folder and a validated job id ever make a path here, so a
// caller's input cannot point us at another file.

import { randomUUID } from "node:crypto";
import { mkdir, open, readdir, rm, writeFile } from "node:fs/promises";
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

/** The paths of one attempt's logs (the folder is created if missing). */
export async function attemptLogPaths(logDir: string, jobId: string, startedAt: Date): Promise<AttemptLogs> {
  await mkdir(logDir, { recursive: true });
  const base = join(logDir, `${checkJobId(jobId)}-${logStamp(startedAt)}`);
  return { stdoutPath: `${base}.stdout.log`, stderrPath: `${base}.stderr.log` };
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

/** Makes sure the log folder exists and takes writes; ConfigError saying what to do otherwise. */
export async function preflightLogDir(logDir: string): Promise<void> {
  const probe = join(logDir, `.write-test-${randomUUID()}`);
  try {
    await mkdir(logDir, { recursive: true });
    await writeFile(probe, "ok");
    await rm(probe, { force: true });
  } catch (e: unknown) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new ConfigError(
      `the Claude log folder ${logDir} cannot be created or written (${reason}). ` +
        `Fix its permissions, or point the log folder setting at a writable directory.`,
    );
  }
}

/** The last lines of a file, reading at most `maxBytes` from its end: bounded whatever the file's size. */
export async function tailFile(path: string, maxLines = 20, maxBytes = 8192): Promise<string> {
  let handle;
  try {
    handle = await open(path, "r");
    const { size } = await handle.stat();
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    let lines = buffer.toString("utf8").split("\n");
    if (length < size) lines = lines.slice(1); // the first line is cut
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
