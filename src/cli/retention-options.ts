// The retention periods as options, shared by `worker` (and `serve`), whose
// maintenance task deletes old jobs, and `cleanup`, which does it on demand:
// one env var each, one default, so both delete the same jobs.

import type { OptionSpec } from "./options.ts";

export const RETAIN_FINISHED_OPTION = {
  type: "string",
  description: "delete finished and cancelled jobs this long after they ended (0 or off: keep them)",
  env: "CLAUDE_JOBS_RETAIN_FINISHED",
  default: "14d",
} as const satisfies OptionSpec;

export const RETAIN_FAILED_OPTION = {
  type: "string",
  description: "delete failed jobs this long after they ended (0 or off: keep them)",
  env: "CLAUDE_JOBS_RETAIN_FAILED",
  default: "30d",
} as const satisfies OptionSpec;
