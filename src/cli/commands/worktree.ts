// `diff`, `discard`, `follow-up`: what a person does with a job that worked
// in a worktree of its own. `diff` prints the branch against its base (the
// stat, then the hunks; colours on a terminal), `discard` removes the
// worktree folder and the branch, `follow-up` enqueues a job that resumes
// the session on the same branch. Merging and pushing are the user's: the
// commands are printed, never run. (No `pr` command: `gh pr create` needs
// the branch pushed first and asks questions; the printed push command is
// where that starts.)

import { readFileSync } from "node:fs";
import { ConflictError, InputError } from "../../errors.ts";
import { Queue } from "../../queue/client.ts";
import { validateId } from "../../queue/validate.ts";
import type { BranchDiff, DiffLimits } from "../../git/diff.ts";
import { jobChanges, jobPatch } from "../../review/changes.ts";
import { jobWorktree } from "../../review/worktree-of.ts";
import { discardWorktree } from "../../review/discard.ts";
import { enqueueFollowUp } from "../../review/follow-up.ts";
import { openDatabase, type CliContext } from "../context.ts";
import { DATABASE_URL_OPTION, JSON_OPTION, type CommandSpec, type ParsedCommand } from "../options.ts";
import { jsonText, visible } from "../terminal.ts";
import { COLOR, diffText, PLAIN, takeCommands, wantColor } from "../diff-text.ts";
import type { JobRecord } from "../../handlers/types.ts";

/** A terminal takes more than a page: what is cut here is cut for memory's sake. */
const CLI_LIMITS: DiffLimits = { maxTotalBytes: 16 << 20, maxFileBytes: 4 << 20, maxFiles: 100_000 };

async function withJob<T>(ctx: CliContext, values: ParsedCommand["values"], id: string, use: (queue: Queue, job: JobRecord) => Promise<T>): Promise<T> {
  const db = await openDatabase(ctx, { databaseUrl: values["database-url"] as string | undefined, max: 2 });
  try {
    const queue = new Queue(db.sql);
    return await use(queue, await queue.get(id));
  } finally {
    await db.close();
  }
}

/** The job's diff, or the sentence that says why there is none. */
async function diffOf(job: JobRecord, limits: DiffLimits): Promise<BranchDiff | string> {
  const changes = await jobChanges(job, limits);
  if (!("message" in changes)) return changes;
  return changes.state === "waiting" ? `job ${job.id} is ${job.status} and has recorded no worktree yet; its changes show once it has run` : changes.message;
}

export const diff = {
  spec: {
    name: "diff",
    summary: "Show what a worktree job changed: its branch against its base commit (stat, then each file).",
    usage: "claude-jobs diff <id> [--stat] [--patch] [--color=auto|always|never] [--json]",
    options: {
      stat: { type: "boolean", description: "only the stat: each file's insertions and deletions, and the totals" },
      patch: { type: "boolean", description: "the whole patch byte for byte, binary files included (what `git apply` takes): for piping, not for a terminal" },
      color: { type: "string", description: "colours: auto (on a terminal, unless NO_COLOR is set), always, never", default: "auto" },
      json: JSON_OPTION,
      "database-url": DATABASE_URL_OPTION,
    },
    positionals: ["id"],
  } satisfies CommandSpec,
  async run(ctx: CliContext, { values, positionals }: ParsedCommand): Promise<number> {
    const id = validateId("id", positionals[0]);
    const color = values.color as string;
    if (!["auto", "always", "never"].includes(color)) throw new InputError("--color", `must be auto, always or never; got ${JSON.stringify(color)}`);
    return withJob(ctx, values, id, async (_queue, job) => {
      if (values.patch) return printPatch(ctx, job);
      const d = await diffOf(job, CLI_LIMITS);
      if (typeof d === "string") throw new ConflictError(d);
      if (values.json) {
        ctx.out(jsonText(d));
        return d.state === "ready" ? 0 : 1;
      }
      // No diff to show (discarded, or the repository is not here) is said on stderr, exit 1: stdout is only ever a diff.
      if (d.state !== "ready") throw new ConflictError(diffText(job.id, d, PLAIN).replace(/\n+/g, " "));
      ctx.out(diffText(job.id, d, wantColor(color, process.stdout.isTTY === true, ctx.env) ? COLOR : PLAIN, { statOnly: values.stat === true }));
      return 0;
    });
  },
};

async function printPatch(ctx: CliContext, job: JobRecord): Promise<number> {
  const stream = await jobPatch(job);
  if (!stream) {
    const d = await diffOf(job, CLI_LIMITS);
    throw new ConflictError(typeof d === "string" ? d : d.state === "unavailable" ? d.reason : `job ${job.id}'s branch is gone (discarded): there is no patch`);
  }
  const write = ctx.write ?? ((bytes: Uint8Array) => void process.stdout.write(bytes));
  for await (const chunk of stream) write(chunk);
  return 0;
}

export const discard = {
  spec: {
    name: "discard",
    summary: "Throw away a worktree job's work: remove its worktree folder and its branch (not while it runs).",
    usage: "claude-jobs discard <id> [--json]",
    options: { json: JSON_OPTION, "database-url": DATABASE_URL_OPTION },
    positionals: ["id"],
  } satisfies CommandSpec,
  async run(ctx: CliContext, { values, positionals }: ParsedCommand): Promise<number> {
    const id = validateId("id", positionals[0]);
    const db = await openDatabase(ctx, { databaseUrl: values["database-url"] as string | undefined, max: 2 });
    try {
      const r = await discardWorktree(db.sql, await new Queue(db.sql).get(id));
      if (values.json) {
        ctx.out(jsonText(r));
        return 0;
      }
      const removed = [
        r.removedPath ? `the worktree folder ${r.path} (and its entry in git worktree list)` : "",
        r.deletedBranch ? `the branch ${r.branch}` : "",
      ].filter(Boolean);
      const shared = r.rootJobId !== r.jobId ? ` (the worktree of job ${r.rootJobId}, which its follow-ups share)` : "";
      ctx.out(visible(removed.length > 0
        ? `Discarded job ${r.jobId}'s work${shared}: removed ${removed.join(" and ")} in ${r.repository}.`
        : `Nothing to remove for job ${r.jobId}${shared}: the worktree folder ${r.path} and the branch ${r.branch} are already gone.`));
      return 0;
    } finally {
      await db.close();
    }
  },
};

export const followUp = {
  spec: {
    name: "follow-up",
    summary: "Enqueue a follow-up of a worktree job: resumes its Claude session on the same branch; prints the new id.",
    usage: 'claude-jobs follow-up <id> "<prompt>"     (prompt - : read it from stdin)',
    options: { json: JSON_OPTION, "database-url": DATABASE_URL_OPTION },
    positionals: ["id", "prompt"],
  } satisfies CommandSpec,
  async run(ctx: CliContext, { values, positionals }: ParsedCommand): Promise<number> {
    const id = validateId("id", positionals[0]);
    const prompt = positionals[1] === "-" ? readFileSync(0, "utf8") : positionals[1];
    return withJob(ctx, values, id, async (queue, parent) => {
      const newId = await enqueueFollowUp(queue, parent.id, prompt);
      const job = await queue.get(newId);
      if (values.json) ctx.out(jsonText(job));
      else ctx.out(newId);
      const waits = job.status === "waiting" ? `; it waits for ${parent.id} to end` : "";
      ctx.err(`follow-up of ${parent.id}, resuming its session on its branch${waits}`);
      const w = jobWorktree(parent);
      if (w.kind === "recorded" && !values.json) ctx.err(takeCommands(newId, w.record).slice(0, 3).join("\n"));
      return 0;
    });
  },
};
