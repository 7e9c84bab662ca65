// Following a job up: a new Claude job that resumes the job's session in the
// same worktree and on the same branch, with the job's own options (model,
// permissions, limits, setup). Waits for the job to end when it has not
// (`after`), so the two never run at once in one folder. Nothing runs here:
// the new job goes through the queue's validation like any other.

import { existsSync } from "node:fs";
import { ConflictError, InputError } from "../errors.ts";
import type { JobRecord } from "../handlers/types.ts";
import { PAYLOAD_KEYS } from "../handlers/claude/payload.ts";
import type { EnqueueParams, Queue } from "../queue/client.ts";
import { validateId } from "../queue/validate.ts";
import { branchTip } from "../git/diff.ts";
import { jobWorktree } from "./worktree-of.ts";

/** The parent's options a follow-up keeps; the prompt, the session and the worktree fields are its own. */
const INHERITED = [
  "model", "max_turns", "max_budget_usd", "allowed_tools", "disallowed_tools", "permission_mode",
  "append_system_prompt", "add_dirs", "timeout", "exclusive", "setup", "copy",
] as const;

/** Largest follow-up prompt, as the API's enqueue body allows. */
const MAX_PROMPT = 200_000;

export function checkPrompt(field: string, prompt: unknown): string {
  if (typeof prompt !== "string" || prompt.trim() === "") {
    throw new InputError(field, `must be a non-empty string: what Claude should do next; got ${JSON.stringify(prompt ?? null)}`);
  }
  if (prompt.length > MAX_PROMPT) throw new InputError(field, `must be at most ${MAX_PROMPT} characters; got ${prompt.length}`);
  return prompt;
}

/** The EnqueueParams of a follow-up of `parent` (checked here; the payload is checked again by the queue). */
export function followUpParams(parent: JobRecord, prompt: string): EnqueueParams {
  if (parent.kind !== "claude") {
    throw new InputError("id", `job ${parent.id} is a ${parent.kind} job; only Claude jobs have follow-ups`);
  }
  const worktree = jobWorktree(parent);
  if (worktree.kind === "none") {
    throw new InputError("id", `job ${parent.id} did not run in a worktree; a follow-up continues a worktree's branch. ` +
      `To continue its session in its own folder: claude-jobs enqueue --resume ${parent.id} "<prompt>" --cwd <dir>`);
  }
  const payload: Record<string, unknown> = {
    prompt,
    cwd: parent.payload.cwd,
    worktree: true,
    worktree_of: worktree.rootJobId,
    // A job id: the queue turns it into the job's session id, or refuses a job with none yet.
    resume: parent.id,
  };
  // Names the parent for the chain, once the Claude payload knows the field (the worktree contract).
  if ((PAYLOAD_KEYS as readonly string[]).includes("follow_up_of")) payload.follow_up_of = parent.id;
  for (const key of INHERITED) if (parent.payload[key] !== undefined) payload[key] = parent.payload[key];
  const params: EnqueueParams = { kind: "claude", queue: parent.queue, priority: parent.priority, maxAttempts: parent.maxAttempts, payload };
  const ended = parent.status === "finished" || parent.status === "failed" || parent.status === "cancelled";
  if (!ended) params.after = [parent.id];
  return params;
}

/** Enqueues a follow-up of job `parentId`; returns the new job's id. */
export async function enqueueFollowUp(queue: Queue, parentId: string, prompt: unknown): Promise<string> {
  const text = checkPrompt("prompt", prompt);
  const parent = await queue.get(validateId("id", parentId));
  const w = jobWorktree(parent);
  // The run would fail at once on a branch that is gone; checked where the repository is on this host.
  if (w.kind === "recorded" && existsSync(w.record.repository) && (await branchTip(w.record.repository, w.record.branch)) === null) {
    throw new ConflictError(`the branch ${w.record.branch} of job ${parent.id} was discarded (or deleted): a follow-up has nothing to continue`);
  }
  // A parent that has not ended is waited for and resumed at its final session (the queue resolves it at release);
  // one that ended with no session (failed before it started) is the queue's InputError on payload.resume.
  return queue.enqueue(followUpParams(parent, text));
}
