// `claude-jobs logs ID`: a Claude job's output, read from its own log files
// (listLogFiles: the log folder and a validated job id are the only things
// that make a path). Newest attempt by default; --follow streams the newest
// file as it grows, moving on to a retry's new file, until the job is final.
// stream-json is rendered for people unless --raw, and what is printed for
// people shows control characters instead of sending them (terminal.ts: agent
// output can hold escape sequences that retitle the window or write the
// clipboard). --raw is the file byte for byte, for piping. Reads in bounded
// chunks: a log of gigabytes prints without being held in memory.

import { MAX_INTERVAL_MS, parseDuration } from "../../duration.ts";
import { InputError, NotFoundError } from "../../errors.ts";
import { listLogFiles, type LogFile } from "../../handlers/claude/index.ts";
import { renderStreamLine } from "../../handlers/claude/render.ts";
import { LineSplitter } from "../../handlers/claude/lines.ts";
import { readFrom } from "../../handlers/claude/logs.ts";
import { Queue } from "../../queue/client.ts";
import { validateId } from "../../queue/validate.ts";
import { openDatabase, type CliContext } from "../context.ts";
import { LOG_DIR_OPTION, resolveLogDir } from "../log-dir.ts";
import { DATABASE_URL_OPTION, type CommandSpec, type ParsedCommand } from "../options.ts";
import { visible } from "../terminal.ts";

export const spec: CommandSpec = {
  name: "logs",
  summary: "Print a Claude job's output from its log files; --follow streams it until the job ends.",
  usage: "claude-jobs logs <id> [--follow] [--stderr] [--attempt=N] [--raw] [--log-dir=DIR]",
  options: {
    follow: { type: "boolean", short: "f", description: "keep printing as the job writes, until it is finished, failed or cancelled" },
    stderr: { type: "boolean", description: "print the stderr log instead of stdout" },
    attempt: { type: "string", description: "which run's logs: 1 is the first (default: the newest)" },
    raw: {
      type: "boolean",
      description: "print the log file byte for byte as written (stream-json, control characters and all): for piping " +
        "to a file or jq, not for a terminal",
    },
    "poll-interval": { type: "string", description: "with --follow: how often to look for new output", default: "200ms" },
    "log-dir": LOG_DIR_OPTION,
    "database-url": DATABASE_URL_OPTION,
  },
  positionals: ["id"],
};

const FINAL = new Set(["finished", "failed", "cancelled"]);
/** A longer line is printed cut (it is whole in the file): memory stays bounded. */
const MAX_LINE = 1 << 20;

export async function run(ctx: CliContext, { values, positionals }: ParsedCommand): Promise<number> {
  const id = validateId("id", positionals[0]);
  const logDir = resolveLogDir(ctx.env, values["log-dir"]);
  const stream = values.stderr ? "stderr" : "stdout";
  const attempt = values.attempt === undefined ? null : attemptNumber(values.attempt as string);
  // Parsed even without --follow: a bad flag is refused, never silently ignored.
  const pollMs = Math.max(10, parseDuration("--poll-interval", String(values["poll-interval"]), { max: MAX_INTERVAL_MS }));
  const printer: Printer = values.raw
    ? new RawPrinter(ctx.write ?? ((bytes) => void process.stdout.write(bytes)))
    : new LinePrinter(ctx.out, stream === "stdout");
  const pick = async () => pickFile(await listLogFiles(logDir, id), stream, attempt);

  if (!values.follow) {
    const file = await pick();
    if (!file) throw new NotFoundError(noLogs(id, logDir, attempt));
    ctx.err(`${file.name}`);
    await copyFrom(file.path, 0, printer);
    printer.end();
    return 0;
  }

  const db = await openDatabase(ctx, { databaseUrl: values["database-url"] as string | undefined, max: 1 });
  let interrupted = false;
  ctx.onSignal(() => (interrupted = true));
  try {
    const queue = new Queue(db.sql);
    await queue.get(id); // NotFoundError for an unknown job, before waiting on it
    let current: LogFile | null = null;
    let offset = 0;
    for (;;) {
      // Status first, then the file: output written before the job became final is all read below.
      const final = FINAL.has((await queue.get(id)).status);
      const newest = await pick();
      if (newest && newest.path !== current?.path && (attempt === null || current === null)) {
        if (current) offset = await copyFrom(current.path, offset, printer); // the rest of the old attempt
        printer.end();
        current = newest;
        offset = 0;
        ctx.err(`${current.name}`);
      }
      if (current) offset = await copyFrom(current.path, offset, printer);
      if (final || interrupted) break;
      await Bun.sleep(pollMs);
    }
    printer.end();
    if (!current && !interrupted) ctx.err(noLogs(id, logDir, attempt));
    return interrupted ? 130 : 0;
  } finally {
    await db.close();
  }
}

function attemptNumber(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new InputError("--attempt", `must be a positive integer; got ${JSON.stringify(text)}`);
  return Number(text);
}

function pickFile(files: LogFile[], stream: "stdout" | "stderr", attempt: number | null): LogFile | null {
  const ofStream = files.filter((f) => f.stream === stream);
  return (attempt === null ? ofStream.at(-1) : ofStream[attempt - 1]) ?? null;
}

function noLogs(id: string, logDir: string, attempt: number | null): string {
  return `no ${attempt === null ? "" : `attempt ${attempt} `}log files for job ${id} in ${logDir}: it has not run yet, ` +
    "is not a Claude job, or ran on a worker with another --log-dir";
}

/** Prints the file from `offset` to its current end; returns the new offset. */
function copyFrom(path: string, offset: number, printer: Printer): Promise<number> {
  return readFrom(path, offset, (chunk) => printer.push(chunk));
}

interface Printer {
  push(chunk: Buffer): void;
  /** The end of a file (or of the output). */
  end(): void;
}

/** --raw: the bytes as they are in the file. */
class RawPrinter implements Printer {
  constructor(private readonly write: (bytes: Uint8Array) => void) {}

  push(chunk: Buffer): void {
    this.write(chunk);
  }

  end(): void {}
}

/**
 * For people: each line rendered (stdout's stream-json) or as it is
 * (stderr), with control characters shown, not sent; a partial line waits
 * for its end, a huge one is cut.
 */
class LinePrinter implements Printer {
  private readonly lines: LineSplitter;

  constructor(private readonly out: (text: string) => void, private readonly render: boolean) {
    this.lines = new LineSplitter((line) => this.print(line.toString("utf8")), MAX_LINE);
  }

  push(chunk: Buffer): void {
    this.lines.push(chunk);
  }

  /** Prints a last line that had no newline. */
  end(): void {
    this.lines.end();
  }

  private print(line: string): void {
    if (!this.render) return this.out(visible(line.replace(/\r$/, "")) + "\n"); // a CRLF line end is a line end
    const text = renderStreamLine(line);
    if (text !== null) this.out(visible(text) + "\n");
  }
}
