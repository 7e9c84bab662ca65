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
  /** Names of positional arguments, for help and count checks. */
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
    throw new InputError("flags", `${(e as Error).message.replace(/\. To specify.*$/s, "")}; see \`claude-jobs ${spec.name} --help\``);
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
  const expected = spec.positionals?.length ?? 0;
  if (!values.help && parsed.positionals.length !== expected) {
    const what = expected === 0 ? "no arguments" : spec.positionals!.map((p) => `<${p}>`).join(" ");
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
