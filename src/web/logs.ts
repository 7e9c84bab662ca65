// The job output: the Claude handler's per-attempt log files (listed by its
// listLogFiles, so only that folder and a job id make a path), read for the
// stored view, served raw, and followed live as server-sent events. This is
// the hook for log files: with no log folder configured, pages show the
// job's result only and the SSE stream says so and ends.

import { open } from "node:fs/promises";
import { listLogFiles, type LogFile } from "../handlers/claude/index.ts";
import { renderStreamLine } from "./views/stream.tsx";

export interface LogSource {
  /** The folder the workers write Claude logs to (their --log-dir). */
  dir: string;
}

export interface StoredLog {
  file: LogFile;
  size: number;
  /** The file's last `maxBytes`, from a line start. */
  text: string;
  truncated: boolean;
}

const STORED_MAX = 1 << 20;

export async function readTail(path: string, maxBytes = STORED_MAX): Promise<{ text: string; size: number; truncated: boolean }> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    let text = buffer.toString("utf8");
    if (length < size) text = text.slice(text.indexOf("\n") + 1);
    return { text, size, truncated: length < size };
  } finally {
    await handle.close();
  }
}

/** The job's log files with their (tail) contents, oldest attempt first. */
export async function readStoredLogs(source: LogSource | undefined, jobId: string): Promise<StoredLog[]> {
  if (!source) return [];
  const files = await listLogFiles(source.dir, jobId);
  const out: StoredLog[] = [];
  for (const file of files) {
    try {
      out.push({ file, ...(await readTail(file.path)) });
    } catch {
      // a file removed since listing: skip it
    }
  }
  return out;
}

const HEAD_MAX = 256 << 10;

/** The model a stream-json init event names, in the first lines of `text`; null if none. */
export function initModel(text: string): string | null {
  let start = 0;
  for (let n = 0; n < 20 && start < text.length; n++) {
    const end = text.indexOf("\n", start);
    const line = text.slice(start, end < 0 ? text.length : end);
    start = end < 0 ? text.length : end + 1;
    if (!line.includes('"init"')) continue;
    try {
      const event = JSON.parse(line) as Record<string, unknown>;
      if (event?.type === "system" && event.subtype === "init" && typeof event.model === "string" && event.model !== "" && event.model !== "<synthetic>") {
        return event.model;
      }
    } catch {
      // not JSON: a warning the CLI printed
    }
  }
  return null;
}

/**
 * The model the newest attempt's output names (its stream-json init event),
 * for a result that does not say: from the stored text, or from the file's
 * first bytes when the stored text is only its tail.
 */
export async function modelFromLogs(logs: StoredLog[]): Promise<string | null> {
  for (const log of logs.filter((l) => l.file.stream === "stdout").reverse()) {
    let model = log.truncated ? null : initModel(log.text);
    if (model === null && log.truncated) {
      try {
        const handle = await open(log.file.path, "r");
        try {
          const buffer = Buffer.alloc(Math.min(log.size, HEAD_MAX));
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
          model = initModel(buffer.subarray(0, bytesRead).toString("utf8"));
        } finally {
          await handle.close();
        }
      } catch {
        // removed since it was read
      }
    }
    if (model !== null) return model;
  }
  return null;
}

/** One log file by name, if it is one of this job's. */
export async function findLogFile(source: LogSource | undefined, jobId: string, name: string): Promise<LogFile | null> {
  if (!source) return null;
  return (await listLogFiles(source.dir, jobId)).find((f) => f.name === name) ?? null;
}

export interface TailOptions {
  source: LogSource | undefined;
  jobId: string;
  /** Is the job still running? Polled about once a second. */
  isRunning: () => Promise<boolean>;
  signal: AbortSignal;
  pollMs?: number;
}

const encoder = new TextEncoder();
const sse = (event: string, data: unknown) => encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

/**
 * Follows the newest stdout log of the job while it runs: each complete line
 * is an `line` event {raw, html}; a new attempt's file is a `file` event; when
 * the job is no longer running and the file stops growing, `end`.
 */
export function tailLogs(o: TailOptions): ReadableStream<Uint8Array> {
  const pollMs = o.pollMs ?? 300;
  return new ReadableStream({
    async start(controller) {
      let path: string | null = null;
      let offset = 0;
      let pending = "";
      let decoder = new TextDecoder();
      let lastCheck = 0;
      let running = true;
      let lastBeat = Date.now();
      try {
        if (!o.source) {
          controller.enqueue(sse("end", { reason: "no log folder is configured for this dashboard" }));
          return;
        }
        while (!o.signal.aborted) {
          const files = (await listLogFiles(o.source.dir, o.jobId)).filter((f) => f.stream === "stdout");
          const newest = files.at(-1);
          if (newest && newest.path !== path) {
            path = newest.path;
            offset = 0;
            pending = "";
            decoder = new TextDecoder();
            controller.enqueue(sse("file", { name: newest.name, startedAt: newest.startedAt }));
          }
          let grew = false;
          if (path) {
            const chunk = await readFrom(path, offset);
            if (chunk.length > 0) {
              grew = true;
              offset += chunk.length;
              pending += decoder.decode(chunk, { stream: true });
              const lines = pending.split("\n");
              pending = lines.pop() ?? "";
              for (const raw of lines) if (raw.trim()) controller.enqueue(sse("line", { raw, html: renderStreamLine(raw) }));
            }
          }
          if (Date.now() - lastCheck > 1000) {
            lastCheck = Date.now();
            running = await o.isRunning();
          }
          if (!running && !grew) {
            if (pending.trim()) controller.enqueue(sse("line", { raw: pending, html: renderStreamLine(pending) }));
            controller.enqueue(sse("end", { reason: "the job is not running" }));
            return;
          }
          if (Date.now() - lastBeat > 15_000) {
            lastBeat = Date.now();
            controller.enqueue(encoder.encode(": keep-alive\n\n"));
          }
          await Bun.sleep(pollMs);
        }
      } catch (e: unknown) {
        if (!o.signal.aborted) controller.enqueue(sse("error", { message: (e as Error).message }));
      } finally {
        try {
          controller.close();
        } catch {
          // already closed by the client going away
        }
      }
    },
  });
}

/** Up to 256 KiB of the file from `offset` (a log written faster is read over several polls). */
async function readFrom(path: string, offset: number): Promise<Buffer> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    if (size <= offset) return Buffer.alloc(0);
    const length = Math.min(size - offset, 256 * 1024);
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, offset);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
