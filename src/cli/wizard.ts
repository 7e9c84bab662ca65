// The interactive wizard: `claude-jobs` with no arguments in a terminal. It
// asks, then builds the same flags a command takes and runs that command's
// run function: it owns no queue, database or worker logic of its own. Every
// choice it offers is also a flag (--database-url, enqueue's flags, ...).
// Ctrl-C at any prompt leaves (exit 130) without writing anything the user
// had not confirmed; the config file is written only after "Save?".

import * as p from "@clack/prompts";
import { configFilePath, defaultDataDir, loadConfigFile, saveConfigFile, type Env, type SavedConfig } from "../config.ts";
import { connect, validateDatabaseUrl } from "../db/connect.ts";
import { errorMessage, InputError, redactUrl } from "../errors.ts";
import { createClaudeHandler } from "../handlers/claude/index.ts";
import { validateEnqueue, type EnqueueParams } from "../queue/validate.ts";
import { VERSION } from "../version.ts";
import type { CliContext } from "./context.ts";
import { parseCommand, portInUse, type CommandSpec, type ParsedCommand } from "./options.ts";
import { diagnostic } from "./terminal.ts";
import * as migrate from "./commands/migrate.ts";
import * as enqueue from "./commands/enqueue.ts";
import * as stats from "./commands/stats.ts";
import * as list from "./commands/list.ts";
import * as serve from "./commands/serve.ts";
import { dashboardOptions, dashboardSettings } from "./commands/dashboard.ts";

interface Command {
  spec: CommandSpec;
  run(ctx: CliContext, parsed: ParsedCommand): Promise<number>;
}

/** Thrown when the user presses Ctrl-C; unwinds to runWizard. */
class Cancelled extends Error {}

function answer<T>(value: T): Exclude<T, symbol> {
  if (p.isCancel(value)) throw new Cancelled();
  return value as Exclude<T, symbol>;
}

/** The database the session runs on: a URL, or undefined for the embedded PostgreSQL. */
interface Session {
  ctx: CliContext;
  url: string | undefined;
  /** The environment commands see: DATABASE_URL removed, so the wizard's choice (a flag) wins. */
  env: Env;
}

let interrupt: (() => void) | null = null;

/** Runs `op` under a spinner; Ctrl-C (SIGINT, as no prompt holds the terminal) abandons it. */
async function spin<T>(message: string, op: () => Promise<T>, done: (value: T) => string): Promise<T> {
  const s = p.spinner({ cancelMessage: "Cancelled" });
  s.start(message);
  const cancelled = new Promise<never>((_, reject) => (interrupt = () => reject(new Cancelled())));
  try {
    const value = await Promise.race([op(), cancelled]);
    s.stop(done(value));
    return value;
  } catch (e: unknown) {
    if (!(e instanceof Cancelled)) s.error(diagnostic(errorMessage(e)));
    throw e;
  } finally {
    interrupt = null;
  }
}

/** Runs a command with flags, collecting what it prints. */
async function runCommand(session: Session, command: Command, flags: string[], passThrough = false) {
  const dbFlags = session.url ? [`--database-url=${session.url}`] : [];
  const parsed = parseCommand(command.spec, [...flags, ...dbFlags], session.env, {});
  const out: string[] = [];
  const err: string[] = [];
  const sub: CliContext = passThrough ? { ...session.ctx, env: session.env, config: {} }
    : { ...session.ctx, env: session.env, config: {}, out: (t) => out.push(t.trimEnd()), err: (t) => err.push(t.trimEnd()) };
  const code = await command.run(sub, parsed);
  return { code, out: out.join("\n"), err: err.join("\n") };
}

async function testUrl(url: string): Promise<string> {
  const sql = await connect(url, { max: 1, connectTimeout: 5, applicationName: "claude-jobs wizard" });
  try {
    const [row] = await sql<{ v: string }[]>`SELECT current_setting('server_version') AS v`;
    return row!.v;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/**
 * Asks for a URL until one answers. The connection is tested as the answer's
 * validation: a URL that fails stays in the field, the error under it, to be
 * corrected rather than typed again.
 */
async function askUrl(initialValue?: string): Promise<string> {
  let version = "";
  const url = answer(await p.text({
    message: "PostgreSQL URL",
    placeholder: "postgres://user:password@host:5432/database",
    ...(initialValue ? { initialValue } : {}),
    validate: async (v) => {
      try {
        validateDatabaseUrl(v ?? "");
        version = await testUrl(v ?? "");
      } catch (e: unknown) {
        return diagnostic(errorMessage(e));
      }
    },
  }));
  p.log.success(`Connected: PostgreSQL ${version}`);
  return url;
}

/** Tests a URL the user did not type (saved, or DATABASE_URL); when it fails, asks for another. */
async function connectOrAsk(url: string): Promise<{ url: string; changed: boolean }> {
  try {
    await spin(`Connecting to ${redactUrl(url)}`, () => testUrl(url), (v) => `Connected: PostgreSQL ${v}`);
    return { url, changed: false };
  } catch (e: unknown) {
    if (e instanceof Cancelled) throw e;
    return { url: await askUrl(), changed: true }; // the spinner showed why it failed
  }
}

/** Asks which database to use until one answers (or the embedded one is picked). */
async function chooseDatabase(ctx: CliContext): Promise<string | undefined> {
  const envUrl = ctx.env.DATABASE_URL || undefined;
  const choice = answer(await p.select<string>({
    message: "Which PostgreSQL should claude-jobs use?",
    initialValue: "embedded",
    options: [
      { value: "embedded", label: "Embedded PostgreSQL (recommended)", hint: `runs in ${defaultDataDir(ctx.env)}` },
      ...(envUrl ? [{ value: "env", label: "DATABASE_URL from the environment", hint: redactUrl(envUrl) }] : []),
      { value: "url", label: "Another PostgreSQL: type its URL" },
    ],
  }));
  if (choice === "embedded") return undefined;
  if (choice === "env") return (await connectOrAsk(envUrl!)).url;
  return askUrl();
}

/** What a saved configuration chose, in words; undefined when it chose nothing. */
function describeSaved(config: SavedConfig): string | undefined {
  if (config.databaseUrl) return `PostgreSQL at ${redactUrl(config.databaseUrl)}`;
  if (config.database === "embedded") return "the embedded PostgreSQL";
  return undefined;
}

/** The saved configuration, kept (and tested) or changed; `save` when there is a new choice to offer saving. */
async function databaseFor(ctx: CliContext, saved: SavedConfig): Promise<{ url: string | undefined; save: boolean }> {
  const what = describeSaved(saved);
  if (what) {
    p.log.info(`using the saved configuration in ${configFilePath(ctx.env)} (${what})`);
    const keep = answer(await p.select<string>({
      message: "Keep the saved configuration?",
      initialValue: "keep",
      options: [
        { value: "keep", label: "Keep it", hint: what },
        { value: "change", label: "Change it" },
      ],
    }));
    if (keep === "keep") {
      if (!saved.databaseUrl) return { url: undefined, save: false };
      const { url, changed } = await connectOrAsk(saved.databaseUrl);
      return { url, save: changed };
    }
  }
  return { url: await chooseDatabase(ctx), save: true };
}

/** Each answer is checked by the enqueue command's own validation, field by field. */
const claudeValidator = new Map([["claude", createClaudeHandler()]]);
function check(patch: Partial<EnqueueParams> & { prompt?: string; cwd?: string }): string | undefined {
  const { prompt = "x", cwd = ".", ...params } = patch;
  try {
    validateEnqueue({ kind: "claude", payload: { prompt, cwd }, ...params }, claudeValidator);
  } catch (e: unknown) {
    if (e instanceof InputError) return e.message;
    throw e;
  }
}
const integer = (t: string) => (/^-?\d+$/.test(t.trim()) ? Number(t) : t) as number;

async function enqueueJob(session: Session): Promise<void> {
  const prompt = answer(await p.text({ message: "Prompt for Claude", validate: (v) => check({ prompt: v ?? "" }) }));
  const cwd = answer(await p.text({ message: "Working directory", initialValue: process.cwd(), validate: (v) => check({ cwd: v ?? "" }) }));
  const queue = answer(await p.text({ message: "Queue", initialValue: "default", validate: (v) => check({ queue: v ?? "" }) }));
  const priority = answer(await p.text({ message: "Priority (-1000..1000, higher runs first)", initialValue: "0", validate: (v) => check({ priority: integer(v ?? "") }) }));
  const delay = answer(await p.text({ message: "Delay (empty: now; or 90s, 5m, 1h30m)", defaultValue: "", validate: (v) => (v ? check({ delay: v }) : undefined) }));
  const flags = [`--payload=${JSON.stringify({ prompt, cwd })}`, `--queue=${queue}`, `--priority=${priority.trim()}`, ...(delay ? [`--delay=${delay}`] : [])];
  const result = await spin("Enqueueing", () => runCommand(session, enqueue, flags), (r) => `Enqueued job ${r.out}`);
  if (result.code !== 0) p.log.error(diagnostic(result.err));
}

async function showQueue(session: Session): Promise<void> {
  const counts = await runCommand(session, stats, []);
  const latest = await runCommand(session, list, ["--limit=10"]);
  p.log.message(counts.out, { symbol: "≡" });
  p.log.message(latest.out || "no jobs yet", { symbol: "≡" });
}

/** `serve` runs until Ctrl-C, printing straight to the terminal (with the dashboard's URL); the wizard ends with it. */
async function startServe(session: Session): Promise<number> {
  const port = answer(await p.text({
    message: "Dashboard port", initialValue: String(dashboardOptions.port.default),
    validate: (v) => {
      let settings: ReturnType<typeof dashboardSettings>;
      try {
        settings = dashboardSettings(session.ctx, parseCommand(serve.spec, [`--port=${v ?? ""}`], session.env, {}).values);
      } catch (e: unknown) {
        return errorMessage(e);
      }
      if (settings.port === 0) return undefined;
      try {
        Bun.serve({ port: settings.port, hostname: settings.host, fetch: () => new Response() }).stop(true);
      } catch (e: unknown) {
        const inUse = portInUse(e, settings.port);
        return inUse ? `port ${settings.port} is in use; choose another` : errorMessage(e);
      }
    },
  }));
  p.outro("Starting a worker and the dashboard (Ctrl-C stops both; twice: at once)");
  return (await runCommand(session, serve, [`--port=${port}`], true)).code;
}

async function menu(session: Session): Promise<number> {
  for (;;) {
    const action = answer(await p.select<string>({
      message: "What next?",
      options: [
        { value: "start", label: "Start a worker and the dashboard" },
        { value: "enqueue", label: "Enqueue a Claude job" },
        { value: "show", label: "Show the queue" },
        { value: "quit", label: "Quit" },
      ],
    }));
    if (action === "quit") break;
    if (action === "start") return startServe(session);
    try {
      if (action === "enqueue") await enqueueJob(session);
      else await showQueue(session);
    } catch (e: unknown) {
      if (e instanceof Cancelled) throw e;
      p.log.error(diagnostic(errorMessage(e))); // a bad answer or a lost database: back to the menu
    }
  }
  p.outro("Bye. Every step is also a command: claude-jobs --help");
  return 0;
}

export async function runWizard(ctx: CliContext): Promise<number> {
  ctx.onSignal(() => interrupt?.());
  p.intro(`claude-jobs ${VERSION}`);
  let saved: SavedConfig = {};
  try {
    saved = loadConfigFile(ctx.env, (warning) => p.log.warn(diagnostic(warning)));
  } catch (e: unknown) {
    p.log.warn(`${diagnostic(errorMessage(e))} (it is replaced only if you save a new choice)`);
  }
  try {
    const { url, save: offerSave } = await databaseFor(ctx, saved);
    if (offerSave) {
      const path = configFilePath(ctx.env);
      const save = answer(await p.confirm({ message: `Save this choice to ${path}?`, initialValue: true }));
      if (save) p.log.success(`Saved to ${saveConfigFile(ctx.env, url ? { databaseUrl: url } : { database: "embedded" })} (mode 0600)`);
      if (save && ctx.env.DATABASE_URL && ctx.env.DATABASE_URL !== url) {
        p.log.warn("DATABASE_URL is set in this shell: commands run here use it before the saved choice.");
      }
    }
    const session: Session = { ctx, url, env: { ...ctx.env, DATABASE_URL: undefined } };
    const where = url ? `Migrating ${redactUrl(url)}` : "Starting the embedded PostgreSQL and migrating";
    const result = await spin(where, () => runCommand(session, migrate, []), (r) => (url ? r.out : `Embedded PostgreSQL ready: ${r.out}`));
    if (result.err) p.log.info(result.err);
    return await menu(session);
  } catch (e: unknown) {
    if (!(e instanceof Cancelled)) {
      p.cancel(portInUse(e) ?? diagnostic(errorMessage(e))); // the spinner, if any, already said what failed
      return 1;
    }
    p.cancel("Cancelled.");
    return 130;
  }
}
