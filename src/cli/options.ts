// Declarative command options: each has a flag, an optional env var and a
// default, and `--help` prints all three. Parsing is node:util parseArgs
// (strict), then resolution flag > env > config file > default. Bad flags and
// values become InputErrors naming the flag.

import { parseArgs } from "node:util";
import { InputError } from "../errors.ts";
import type { Env, SavedConfig } from "../config.ts";

export interface OptionSpec {
  type: "string" | "boolean";
  description: string;
  env?: string;
  default?: string | boolean;
  short?: string;
  /** The saved-config key that backs this option, if any. */
  configKey?: keyof SavedConfig;
  multiple?: boolean;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  options: Record<string, OptionSpec>;
  /** Names of positional arguments, for help and count checks; a name ending in "?" may be left out (only at the end). */
  positionals?: string[];
}

export type ValueSource = "flag" | "env" | "config" | "default";

export interface ParsedCommand {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  /** Where each set value came from (a secret on the command line is readable by every local user). */
  sources?: Record<string, ValueSource>;
}

export const DATABASE_URL_OPTION: OptionSpec = {
  type: "string",
  description: "PostgreSQL URL; unset everywhere: the embedded PostgreSQL",
  env: "DATABASE_URL",
  configKey: "databaseUrl",
};

export const JSON_OPTION: OptionSpec = { type: "boolean", description: "print JSON instead of text" };

export function parseCommand(spec: CommandSpec, argv: string[], env: Env, config: SavedConfig): ParsedCommand {
  const parseOptions = Object.fromEntries(
    Object.entries(spec.options).map(([name, o]) => [name, {
      type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}),
    }]),
  );
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options: { ...parseOptions, help: { type: "boolean", short: "h" } }, strict: true, allowPositionals: true });
  } catch (e: unknown) {
    const message = (e as Error).message.replace(/\. To specify.*$/s, "");
    const unknown = /^Unknown option '(--?[^']+)'/.exec(message)?.[1];
    const near = unknown?.startsWith("--") ? closest(unknown.slice(2), [...Object.keys(spec.options), "help"]) : undefined;
    throw new InputError("flags", `${message}${near ? `; did you mean --${near}?` : ""}; see \`claude-jobs ${spec.name} --help\``);
  }
  const values: ParsedCommand["values"] = { help: parsed.values.help as boolean | undefined };
  const sources: Record<string, ValueSource> = {};
  for (const [name, o] of Object.entries(spec.options)) {
    const flag = parsed.values[name] as string | boolean | string[] | undefined;
    const fromEnv = o.env ? env[o.env] : undefined;
    const fromConfig = o.configKey ? config[o.configKey] : undefined;
    // In order, each looked at only when the ones before are unset (a bad env value under a flag is not an error).
    let value: ParsedCommand["values"][string];
    let source: ValueSource | undefined;
    if (flag !== undefined) [value, source] = [flag, "flag"];
    else if (fromEnv !== undefined && fromEnv !== "") [value, source] = [coerce(o, fromEnv, o.env!), "env"];
    else if (fromConfig !== undefined) [value, source] = [fromConfig, "config"];
    else if (o.default !== undefined) [value, source] = [o.default, "default"];
    values[name] = value;
    if (source) sources[name] = source;
  }
  // A name ending in "?" is optional (`queue list` and `queue pause <name>` are one command).
  const names = spec.positionals ?? [];
  const required = names.filter((p) => !p.endsWith("?")).length;
  if (!values.help && (parsed.positionals.length < required || parsed.positionals.length > names.length)) {
    const what = names.length === 0 ? "no arguments" : names.map((p) => (p.endsWith("?") ? `[<${p.slice(0, -1)}>]` : `<${p}>`)).join(" ");
    throw new InputError("arguments", `expects ${what}; got ${parsed.positionals.length === 0 ? "none" : parsed.positionals.map((p) => JSON.stringify(p)).join(" ")}`);
  }
  return { values, positionals: parsed.positionals, sources };
}

function coerce(o: OptionSpec, raw: string, envName: string): string | boolean {
  if (o.type === "string") return raw;
  if (/^(1|true|yes)$/i.test(raw)) return true;
  if (/^(0|false|no)$/i.test(raw)) return false;
  throw new InputError(envName, `must be true or false; got ${JSON.stringify(raw)}`);
}

export function formatHelp(spec: CommandSpec): string {
  const lines = [`${spec.summary}`, "", `Usage: ${spec.usage}`, "", "Options:"];
  const entries = Object.entries(spec.options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : ""}--${name}${o.type === "string" ? "=<value>" : ""}`;
    const extras = [o.env ? `env ${o.env}` : "", o.default !== undefined && o.default !== false ? `default ${o.default}` : ""].filter(Boolean);
    return [flag, o.description + (extras.length ? ` [${extras.join("; ")}]` : "")] as const;
  });
  entries.push(["-h, --help", "show this help"]);
  const width = Math.max(...entries.map(([f]) => f.length)) + 2;
  for (const [flag, text] of entries) lines.push(`  ${flag.padEnd(width)}${text}`);
  return lines.join("\n");
}

/** Optimal-string-alignment distance: Levenshtein plus adjacent transpositions (`enqeue` is 1 from `enqueue`). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The candidate nearest to `name` (case-insensitive), if one is within `max` edits; the first of equals wins. */
export function closest(name: string, candidates: string[], max = 2): string | undefined {
  let best: string | undefined;
  let bestDistance = max + 1;
  for (const c of candidates) {
    const distance = editDistance(name.toLowerCase(), c.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [c, distance];
  }
  return best;
}

/** A port another process holds, as one line that says what to do (Bun: "Failed to start server. Is port N in use?"). */
export function portInUse(e: unknown, port?: unknown): string | undefined {
  const err = e as { code?: string; message?: string } | null;
  if (err?.code !== "EADDRINUSE" && !/Is port \d+ in use/.test(String(err?.message))) return undefined;
  const n = /port (\d+)/.exec(String(err?.message))?.[1] ?? port;
  return `port ${n} is in use; choose another with --port`;
}

/** A whole-number flag value: digits with an optional minus sign. */
export function integerFlag(flag: string, text: string): number {
  if (!/^-?\d+$/.test(text.trim())) throw new InputError(flag, `must be an integer; got ${JSON.stringify(text)}`);
  return Number(text);
}

/** A flag (or a --file line) holding a JSON object. */
export function jsonObjectFlag(field: string, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e: unknown) {
    throw new InputError(field, `must be a JSON object: ${(e as Error).message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new InputError(field, "must be a JSON object");
  return value as Record<string, unknown>;
}
