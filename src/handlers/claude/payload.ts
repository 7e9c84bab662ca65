// The Claude job payload: validation at enqueue (InputError naming the field),
// the CLI arguments it maps to, and its concurrency key. Pure apart from
// checking that directories exist; never spawns anything.

import { realpathSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { MAX_TIMEOUT_MS, parseDuration } from "../../duration.ts";
import { InputError } from "../../errors.ts";
import { repositoryKeyOf, validateWorktreeFields, WORKTREE_KEYS, type WorktreeFields } from "./worktree-payload.ts";

/**
 * The modes `--permission-mode` takes in Claude Code 2.1.197, the version the
 * contract test runs (tests/contract/real-claude.test.ts): its own refusal
 * lists exactly these. (2.1.332 has `manual` and no `default`; there a job
 * asking for `default` fails at once, on the CLI's flag error.)
 */
export const PERMISSION_MODES = ["acceptEdits", "auto", "bypassPermissions", "default", "dontAsk", "plan"] as const;
export type PermissionMode = (typeof PERMISSION_MODES)[number];

/** A validated payload, as stored: directories are absolute realpaths. */
export interface ClaudePayload extends WorktreeFields {
  prompt: string;
  cwd: string;
  model?: string;
  max_turns?: number;
  max_budget_usd?: number;
  allowed_tools?: string[];
  disallowed_tools?: string[];
  permission_mode?: PermissionMode;
  append_system_prompt?: string;
  add_dirs?: string[];
  /** A Claude session id (UUID) to continue. */
  resume?: string;
  /** A duration like "30m"; the run is stopped (and retried) after it. */
  timeout?: string;
  /** false: may run alongside other jobs in the same cwd. Default true. */
  exclusive?: boolean;
}

export const PAYLOAD_KEYS = [
  "prompt", "cwd", "model", "max_turns", "max_budget_usd", "allowed_tools", "disallowed_tools",
  "permission_mode", "append_system_prompt", "add_dirs", "resume", "timeout", "exclusive", ...WORKTREE_KEYS,
] as const;

/** The default number of worktree jobs that run at once per repository (their shared concurrency key's limit). */
export const DEFAULT_WORKTREE_LIMIT = 3;

/** The largest max_turns accepted. */
export const MAX_TURNS = 1_000_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const show = (value: unknown) => (value === undefined ? "nothing" : JSON.stringify(value) ?? String(value));

/**
 * Checks and normalizes a payload; throws InputError naming `payload.<field>`.
 * With `git: false` (a stored payload, re-checked at run), the worktree fields
 * are checked for their shape only: git was asked at enqueue.
 */
export function validateClaudePayload(payload: Record<string, unknown>, options: { git?: boolean } = {}): ClaudePayload {
  const unknown = Object.keys(payload).filter((key) => !(PAYLOAD_KEYS as readonly string[]).includes(key));
  if (unknown.length > 0) {
    throw new InputError(`payload.${unknown[0]}`, `is not a Claude job option; allowed keys are ${PAYLOAD_KEYS.join(", ")}`);
  }
  const out: ClaudePayload = {
    prompt: text("prompt", payload.prompt, true)!,
    cwd: directory("cwd", payload.cwd),
  };
  const p = payload;
  if (p.model !== undefined) out.model = text("model", p.model, true);
  if (p.max_turns !== undefined) {
    // Bounded so that it reaches the CLI as digits: String(1e308) is "1e+308", which --max-turns refuses.
    out.max_turns = positive("max_turns", p.max_turns, true);
    if (out.max_turns > MAX_TURNS) throw new InputError("payload.max_turns", `must be at most ${MAX_TURNS}; got ${show(p.max_turns)}`);
  }
  if (p.max_budget_usd !== undefined) out.max_budget_usd = positive("max_budget_usd", p.max_budget_usd, false);
  if (p.allowed_tools !== undefined) out.allowed_tools = names("allowed_tools", p.allowed_tools);
  if (p.disallowed_tools !== undefined) out.disallowed_tools = names("disallowed_tools", p.disallowed_tools);
  if (p.permission_mode !== undefined) {
    if (!(PERMISSION_MODES as readonly unknown[]).includes(p.permission_mode)) {
      throw new InputError("payload.permission_mode",
        `must be one of ${PERMISSION_MODES.join(", ")} (Claude Code 2.1.197's modes); got ${show(p.permission_mode)}`);
    }
    out.permission_mode = p.permission_mode as PermissionMode;
  }
  if (p.append_system_prompt !== undefined) out.append_system_prompt = text("append_system_prompt", p.append_system_prompt, false);
  if (p.add_dirs !== undefined) {
    if (!Array.isArray(p.add_dirs)) throw new InputError("payload.add_dirs", `must be an array of existing directories; got ${show(p.add_dirs)}`);
    out.add_dirs = p.add_dirs.map((dir, i) => directory(`add_dirs[${i}]`, dir));
  }
  if (p.resume !== undefined) {
    if (typeof p.resume !== "string" || !UUID.test(p.resume)) {
      throw new InputError("payload.resume", `must be a Claude session id (a UUID, as in the result's sessionId); got ${show(p.resume)}`);
    }
    out.resume = p.resume.toLowerCase();
  }
  if (p.timeout !== undefined) {
    if (typeof p.timeout !== "string") throw new InputError("payload.timeout", `must be a duration string like "30m"; got ${show(p.timeout)}`);
    // At most what a timer holds: setTimeout turns a longer delay into 1 ms.
    if (parseDuration("payload.timeout", p.timeout, { max: MAX_TIMEOUT_MS }) <= 0) throw new InputError("payload.timeout", "must be longer than 0");
    out.timeout = p.timeout;
  }
  if (p.exclusive !== undefined) {
    if (typeof p.exclusive !== "boolean") throw new InputError("payload.exclusive", `must be true or false; got ${show(p.exclusive)}`);
    out.exclusive = p.exclusive;
  }
  return { ...out, ...validateWorktreeFields(p, out.cwd, options.git ?? true) };
}

/**
 * One Claude job at a time per directory, unless the payload opts out. Jobs
 * in worktrees share one key per repository (its common git dir: every
 * checkout and worktree of it), held to claudeConcurrencyLimit at once.
 */
export function claudeConcurrencyKey(payload: Record<string, unknown>): string | null {
  if (payload.exclusive === false) return null;
  if (typeof payload.cwd !== "string") return null;
  if (payload.worktree === true) {
    const repository = repositoryKeyOf(payload.cwd);
    if (repository !== null) return `claude:repo:${repository}`;
  }
  // The stored cwd is already a realpath; resolving again keeps keys equal if
  // a payload was written without validation (by SQL, say).
  let cwd = payload.cwd;
  try {
    cwd = realpathSync(cwd);
  } catch {
    // A cwd gone since enqueue still gets its key; the run will fail clearly.
  }
  return `claude:${cwd}`;
}

/** How many jobs of the key may run at once: `worktreeLimit` for worktree jobs, one per directory otherwise. */
export function claudeConcurrencyLimit(payload: Record<string, unknown>, worktreeLimit = DEFAULT_WORKTREE_LIMIT): number {
  return payload.worktree === true ? worktreeLimit : 1;
}

/**
 * The CLI arguments for a validated payload (the executable not included).
 * Without a permission mode, the seed's --dangerously-skip-permissions; with
 * one, --permission-mode alone: next to --dangerously-skip-permissions the
 * CLI ignores it (its init line still says bypassPermissions).
 */
export function buildClaudeArgs(p: ClaudePayload): string[] {
  const args = p.permission_mode === undefined ? ["--dangerously-skip-permissions"] : ["--permission-mode", p.permission_mode];
  args.push("--verbose", "--output-format", "stream-json");
  if (p.model !== undefined) args.push("--model", p.model);
  if (p.max_turns !== undefined) args.push("--max-turns", String(p.max_turns));
  if (p.max_budget_usd !== undefined) args.push("--max-budget-usd", String(p.max_budget_usd));
  // Comma-joined, as the official SDK passes them. These options are variadic,
  // so they must be followed by another flag, never by the prompt.
  if (p.allowed_tools?.length) args.push("--allowedTools", p.allowed_tools.join(","));
  if (p.disallowed_tools?.length) args.push("--disallowedTools", p.disallowed_tools.join(","));
  if (p.append_system_prompt !== undefined) args.push("--append-system-prompt", p.append_system_prompt);
  for (const dir of p.add_dirs ?? []) args.push("--add-dir", dir);
  // The `=` form, so an id can never be read as a flag.
  if (p.resume !== undefined) args.push(`--resume=${p.resume}`);
  // `--` ends the options: a prompt starting with "-" (a markdown list, say)
  // is otherwise rejected as an unknown option.
  args.push("-p", "--", p.prompt);
  return args;
}

function text(field: string, value: unknown, nonEmpty: boolean): string | undefined {
  const what = nonEmpty ? "a non-empty string" : "a string";
  if (typeof value !== "string" || (nonEmpty && value.trim() === "")) {
    throw new InputError(`payload.${field}`, `must be ${what}; got ${show(value)}`);
  }
  // A NUL cannot be passed in an argument: the spawn would fail at run time.
  if (value.includes("\0")) throw new InputError(`payload.${field}`, "must not contain NUL characters");
  return value;
}

function positive(field: string, value: unknown, integer: boolean): number {
  const ok = typeof value === "number" && Number.isFinite(value) && value > 0 && (!integer || Number.isInteger(value));
  if (!ok) throw new InputError(`payload.${field}`, `must be a positive ${integer ? "integer" : "number"}; got ${show(value)}`);
  return value as number;
}

function names(field: string, value: unknown): string[] {
  const ok = Array.isArray(value) && value.every((v) => typeof v === "string" && v.trim() !== "" && !v.includes("\0"));
  if (!ok) throw new InputError(`payload.${field}`, `must be an array of non-empty strings like ["Read", "Bash(git:*)"]; got ${show(value)}`);
  return value as string[];
}

function directory(field: string, value: unknown): string {
  if (typeof value !== "string" || value.trim() === "" || value.includes("\0")) {
    throw new InputError(`payload.${field}`, `must be the path of an existing directory; got ${show(value)}`);
  }
  const path = resolve(value);
  try {
    if (statSync(path).isDirectory()) return realpathSync(path);
  } catch {
    throw new InputError(`payload.${field}`, `must be an existing directory; ${path} does not exist or cannot be read`);
  }
  throw new InputError(`payload.${field}`, `must be an existing directory; ${path} is not a directory`);
}
