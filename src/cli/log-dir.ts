// The Claude log folder option, shared by the commands that write the logs
// (worker) and those that read them (logs): one flag, one env var, one default,
// so both always look in the same place.

import { join } from "node:path";
import { homeDir, type Env } from "../config.ts";
import type { OptionSpec } from "./options.ts";

export const LOG_DIR_OPTION = {
  type: "string",
  description: "folder for Claude job output logs",
  env: "CLAUDE_JOBS_LOG_DIR",
  default: "~/.local/shared/claude-jobs/logs",
} as const satisfies OptionSpec;

/** The option's value as a path: a leading `~/` is the user's home. */
export function resolveLogDir(env: Env, value: unknown): string {
  const dir = String(value ?? LOG_DIR_OPTION.default);
  return dir.startsWith("~/") ? join(homeDir(env), dir.slice(2)) : dir;
}
