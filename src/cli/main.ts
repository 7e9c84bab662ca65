#!/usr/bin/env bun
// The claude-jobs executable: dispatches to one command per file. The only
// place that calls process.exit. Errors are one line on stderr: exit 2 for
// bad input, 1 for everything else; never a stack trace for a known error.

import { ClaudeJobsError, errorMessage } from "../errors.ts";
import { loadConfigFile, readEnv } from "../config.ts";
import { VERSION } from "../version.ts";
import type { CliContext } from "./context.ts";
import { closest, formatHelp, parseCommand, portInUse, type CommandSpec, type ParsedCommand } from "./options.ts";
import { diagnostic } from "./terminal.ts";
import * as migrate from "./commands/migrate.ts";
import * as enqueue from "./commands/enqueue.ts";
import * as worker from "./commands/worker.ts";
import * as list from "./commands/list.ts";
import * as show from "./commands/show.ts";
import * as logs from "./commands/logs.ts";
import * as stats from "./commands/stats.ts";
import * as workers from "./commands/workers.ts";
import * as db from "./commands/db.ts";
import * as queueCommand from "./commands/queue.ts";
import * as cleanupCommand from "./commands/cleanup.ts";
import * as cronCommand from "./commands/cron.ts";
import * as claudeCommand from "./commands/claude.ts";
import { cancel, remove, retry, runNow } from "./commands/job-actions.ts";
import { diff, discard, followUp } from "./commands/worktree.ts";
import * as dashboard from "./commands/dashboard.ts"; import * as serve from "./commands/serve.ts";

interface Command {
  spec: CommandSpec;
  run(ctx: CliContext, parsed: ParsedCommand): Promise<number>;
}

export const COMMANDS: Command[] = [migrate, enqueue, worker, list, show, logs, stats, retry, cancel, runNow, remove, diff, followUp, discard, workers, queueCommand, cronCommand, claudeCommand, cleanupCommand, db, dashboard, serve];

export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.spec.name.length)) + 2;
  return [
    `claude-jobs ${VERSION}: a PostgreSQL job queue for Claude Code agents and any background work.`,
    "",
    "Usage: claude-jobs <command> [options]     (no command, in a terminal: the setup wizard)",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.spec.name.padEnd(width)}${c.spec.summary}`),
    "",
    "Options:",
    "  -h, --help     show this help (claude-jobs help <command>: that command's help)",
    "  -v, --version  print the version",
    "",
    "Every command takes --help. The database: --database-url, else DATABASE_URL, else the saved",
    "config (~/.config/claude-jobs/config.json), else an embedded PostgreSQL in ~/.local/share/claude-jobs.",
    "Notifications: enqueue --webhook=URL, queue webhook NAME URL, worker --notify-command=CMD (README: Notifications).",
  ].join("\n");
}

/**
 * A repeat of the same signal within this window is one signal delivered
 * twice, not a second request. Ctrl-C under `bun run start ...` reaches us
 * twice: the terminal sends SIGINT to the whole foreground process group, and
 * `bun run` forwards its own copy to its child. The copy arrives within
 * milliseconds on an idle machine (measured: the same millisecond), but
 * later when `bun run` or this process is starved: in a loaded full test
 * suite, with a 500ms window measured from the original, a copy was
 * counted. The two mistakes
 * are not alike: a copy counted turns one Ctrl-C into "stop the running
 * jobs now" (an hour of Claude work thrown away), while a real second press
 * within the window only needs one more press, which the message asks for
 * anyway; a person who reads "signal again to stop now" and presses again
 * takes a second or more. Hence a full second.
 */
export const SIGNAL_REPEAT_WINDOW_MS = 1000;

function createContext(): CliContext {
  const env = readEnv();
  let signals = 0;
  const listeners: ((count: number) => void)[] = [];
  // Per signal: SIGINT then SIGTERM at once is two requests (a person and a
  // supervisor), not a copy. A monotonic clock: a wall-clock step must not
  // turn a copy into a second request.
  const lastCounted = new Map<NodeJS.Signals, number>();
  const onSignal = (name: NodeJS.Signals) => {
    const last = lastCounted.get(name);
    if (last !== undefined && performance.now() - last < SIGNAL_REPEAT_WINDOW_MS) return;
    signals += 1;
    try {
      for (const l of listeners) l(signals);
    } finally {
      // The window starts when the listeners are done, not when the signal
      // was handled: a copy that arrives while they run is handled only after
      // them, and stopping jobs at once does synchronous work (a /proc scan
      // per job's process group) that is slow on a loaded machine.
      lastCounted.set(name, performance.now());
    }
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  return {
    env,
    config: {},
    out: (text) => process.stdout.write(text.endsWith("\n") || text === "" ? text : text + "\n"),
    write: (bytes) => process.stdout.write(bytes),
    // Diagnostics can carry a database URL (an error echoing it) or job data
    // (a hostile value echoed in an error): never a password, never a control sequence.
    err: (text) => {
      const line = diagnostic(text);
      process.stderr.write(line.endsWith("\n") ? line : line + "\n");
    },
    onSignal: (l) => listeners.push(l),
  };
}

/**
 * The first argument is no command. An option there (`claude-jobs
 * --database-url=... stats`) is named without its value, which may be a
 * password, and the right order is shown.
 */
const TOP_LEVEL_OPTIONS = ["--version", "--help"];

function unknownCommand(name: string, rest: string[]): string {
  const names = COMMANDS.map((c) => c.spec.name);
  if (name.startsWith("-")) {
    const flag = name.replace(/=.*$/s, "");
    const commandFlags = COMMANDS.flatMap((c) => Object.keys(c.spec.options).map((o) => `--${o}`));
    if (!commandFlags.includes(flag)) {
      const near = closest(flag, TOP_LEVEL_OPTIONS) ?? closest(flag, commandFlags);
      return `claude-jobs: unknown option ${flag}${near ? `; did you mean ${near}?` : ""} (options: ${TOP_LEVEL_OPTIONS.join(", ")}; claude-jobs --help)`;
    }
    const later = rest.find((a) => names.includes(a));
    return `claude-jobs: ${flag} is an option, and options go after the command: ` +
      `claude-jobs ${later ?? "<command>"} ${flag}${name.includes("=") ? "=..." : ""} (commands: ${names.join(", ")}; claude-jobs --help)`;
  }
  const near = closest(name, names);
  return `claude-jobs: unknown command ${JSON.stringify(name)}${near ? `; did you mean ${near}?` : ""}; commands: ${names.join(", ")} (claude-jobs --help)`;
}

export async function main(argv: string[]): Promise<number> {
  const ctx = createContext();
  const [name, ...rest] = argv;
  if (name === "--version" || name === "-v" || name === "version") {
    ctx.out(VERSION);
    return 0;
  }
  if (name === undefined) {
    if (process.stdin.isTTY && process.stdout.isTTY && !ctx.env.CI) {
      const { runWizard } = await import("./wizard.ts");
      return runWizard(ctx);
    }
    ctx.out(mainHelp());
    return 0;
  }
  if (name === "help" && rest.length > 0) {
    const topic = COMMANDS.find((c) => c.spec.name === rest[0]);
    if (!topic || rest.length > 1) {
      ctx.err(topic ? `claude-jobs help: expects one command; got ${rest.map((a) => JSON.stringify(a)).join(" ")}` : unknownCommand(rest[0]!, []));
      return 2;
    }
    ctx.out(formatHelp(topic.spec));
    return 0;
  }
  if (name === "--help" || name === "-h" || name === "help") {
    ctx.out(mainHelp());
    return 0;
  }
  const command = COMMANDS.find((c) => c.spec.name === name);
  let parsed: ParsedCommand | undefined;
  if (!command) {
    ctx.err(unknownCommand(name, rest));
    return 2;
  }
  try {
    ctx.config = loadConfigFile(ctx.env, (warning) => ctx.err(warning));
    parsed = parseCommand(command.spec, rest, ctx.env, ctx.config);
    if (parsed.values.help) {
      ctx.out(formatHelp(command.spec));
      return 0;
    }
    return await command.run(ctx, parsed);
  } catch (e: unknown) {
    if (e instanceof ClaudeJobsError) {
      ctx.err(`claude-jobs ${name}: ${e.message}`);
      return e.code === "invalid_input" ? 2 : 1;
    }
    const port = portInUse(e, parsed?.values.port);
    if (port) {
      ctx.err(`claude-jobs ${name}: ${port}`);
      return 1;
    }
    ctx.err(`claude-jobs ${name}: unexpected error: ${errorMessage(e)}`);
    if (ctx.env.CLAUDE_JOBS_DEBUG) ctx.err(String((e as Error).stack));
    return 1;
  }
}

if (import.meta.main) {
  process.exit(await main(process.argv.slice(2)));
}
