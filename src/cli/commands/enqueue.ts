// `claude-jobs enqueue`: one job from flags, or many from a JSON Lines file
// (or stdin) in one transaction: all or none. Prints only job ids on stdout.

import { readFileSync } from "node:fs";
import { InputError } from "../../errors.ts";
import { Queue, type EnqueueParams } from "../../queue/client.ts";
import { workersServe } from "../../db/workers.ts";
import { submitWithWebhook } from "../../notify/webhooks.ts";
import { WEBHOOK_FLAGS, webhookFromFlags } from "../notify-options.ts";
import { openDatabase, type CliContext } from "../context.ts";
import { DATABASE_URL_OPTION, integerFlag, jsonObjectFlag, type CommandSpec, type ParsedCommand } from "../options.ts";

export const spec: CommandSpec = {
  name: "enqueue",
  summary: "Add a job to the queue and print its id.",
  usage: `claude-jobs enqueue --payload='{"prompt":"...","cwd":"."}' [options]
       claude-jobs enqueue --file=jobs.jsonl   (one JSON job per line: {"kind","queue","priority","payload","delay","run_at","max_attempts",
                                            "concurrency_key","concurrency_limit","unique_key","unique_states","after"}; - for stdin;
                                            in "after", a number is the line of an earlier job of the file)`,
  options: {
    payload: { type: "string", description: "the job's payload, a JSON object (claude: prompt, cwd, model, max_turns, timeout, ...)" },
    kind: { type: "string", description: "the handler that runs the job", default: "claude" },
    queue: { type: "string", description: "queue name", default: "default" },
    priority: { type: "string", description: "higher runs first, -1000..1000", default: "0" },
    delay: { type: "string", description: "run after this long: 90s, 5m, 1h30m" },
    "run-at": { type: "string", description: "run at this ISO 8601 time" },
    "max-attempts": { type: "string", description: "attempts before the job fails", default: "3" },
    "concurrency-key": { type: "string", description: "jobs sharing this key run at most --concurrency-limit at a time (overrides the kind's own key)" },
    "concurrency-limit": { type: "string", description: "how many jobs with the key may run at once, 1-10000 (default: the kind's, else 1)" },
    "unique-key": { type: "string", description: "if a job with this key is waiting, queued or running, insert nothing and print its id (a note on stderr)" },
    "unique-states": { type: "string", description: "the states the unique key counts in, comma-separated: queued,running (always, with waiting) plus any of finished,failed,cancelled" },
    after: { type: "string", multiple: true, description: "wait for this job to finish first (repeatable); cancelled if it fails or is cancelled" },
    file: { type: "string", description: "enqueue every job of a JSON Lines file (- for stdin), all or none" },
    worktree: { type: "boolean", description: "claude: run in a git worktree of its own, on a branch claude-jobs/<job id> (sets payload.worktree)" },
    webhook: { type: "string", description: "POST the job's end (finished, failed, cancelled) or park to this http(s) URL (README: Notifications); with --file, every job's" },
    "webhook-secret": { type: "string", description: "HMAC-SHA256 key of the webhook's signature header (default: the worker's CLAUDE_JOBS_WEBHOOK_SECRET)" },
    "webhook-template": { type: "string", description: `the webhook's body as a JSON template, e.g. '{"text":"{{status}}: {{queue}} job {{id}}"}' (Slack)` },
    "database-url": DATABASE_URL_OPTION,
  },
};

export async function run(ctx: CliContext, { values }: ParsedCommand): Promise<number> {
  const jobs = values.file !== undefined ? readJobsFile(values.file as string) : [jobFromFlags(values)];
  const webhook = webhookFromFlags(values);
  // Flags and file are parsed before connecting; the queue validates each job before writing any.
  const db = await openDatabase(ctx, { databaseUrl: values["database-url"] as string | undefined, max: 2 });
  try {
    const queue = new Queue(db.sql);
    const single = jobs.length === 1 && values.file === undefined;
    const outcomes = webhook ? await submitWithWebhook(queue, single ? jobs[0]! : jobs, webhook, WEBHOOK_FLAGS)
      : single ? [await queue.submit(jobs[0]!)] : await queue.submitMany(jobs);
    ctx.out(outcomes.map((o) => o.id).join("\n"));
    // stdout stays one id per job (the holder's for a duplicate); what was not inserted is said on stderr.
    outcomes.forEach((o, i) => {
      if (!o.duplicate) return;
      const where = values.file === undefined ? "" : `line ${lineOf(jobs[i]!)}: `;
      ctx.err(`${where}duplicate: job ${o.id} (${o.status}) holds unique key ${JSON.stringify(jobs[i]!.uniqueKey)}; nothing was inserted`);
    });
    const waiting = outcomes.filter((o) => !o.duplicate && o.status === "waiting").length;
    if (waiting > 0) ctx.err(`${waiting === 1 ? "the job waits" : `${waiting} jobs wait`} for the jobs given in --after/"after" to finish`);
    await warnIfUnserved(ctx, queue, jobs);
    return 0;
  } finally {
    await db.close();
  }
}

/**
 * The jobs are in; but if no live worker handles their kind on their queue
 * they wait in silence, so say so (stderr: stdout stays the ids). A worker
 * started later picks them up; this is a warning, not an error.
 */
async function warnIfUnserved(ctx: CliContext, queue: Queue, jobs: EnqueueParams[]): Promise<void> {
  const workers = await queue.workers().catch(() => null);
  if (workers === null) return;
  const pairs = new Map(jobs.map((j) => [`${j.queue ?? "default"}\u0000${j.kind ?? "claude"}`, { queue: j.queue ?? "default", kind: j.kind ?? "claude" }]));
  for (const { queue: q, kind } of pairs.values()) {
    if (workersServe(workers, q, kind)) continue;
    ctx.err(`warning: no live worker handles kind "${kind}" on queue "${q}"; the job waits until one does (claude-jobs worker --queues=${q})`);
  }
}

function jobFromFlags(values: ParsedCommand["values"]): EnqueueParams {
  if (values.payload === undefined) throw new InputError("--payload", 'is required: a JSON object like {"prompt":"fix the tests","cwd":"."}');
  return {
    kind: values.kind as string,
    queue: values.queue as string,
    priority: integerFlag("--priority", values.priority as string),
    maxAttempts: integerFlag("--max-attempts", values["max-attempts"] as string),
    payload: withWorktreeFlag(jsonObjectFlag("--payload", values.payload as string), values.worktree === true),
    ...(values.delay !== undefined ? { delay: values.delay as string } : {}),
    ...(values["run-at"] !== undefined ? { runAt: values["run-at"] as string } : {}),
    ...(values["concurrency-key"] !== undefined ? { concurrencyKey: values["concurrency-key"] as string } : {}),
    ...(values["concurrency-limit"] !== undefined ? { concurrencyLimit: integerFlag("--concurrency-limit", values["concurrency-limit"] as string) } : {}),
    ...(values["unique-key"] !== undefined ? { uniqueKey: values["unique-key"] as string } : {}),
    ...(values["unique-states"] !== undefined ? { uniqueStates: statesFlag(values["unique-states"] as string) as EnqueueParams["uniqueStates"] } : {}),
    ...(values.after !== undefined ? { after: values.after as string[] } : {}),
  };
}

function statesFlag(text: string): string[] {
  return text.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/** The file line each job of --file came from, for messages. */
const LINES = new WeakMap<EnqueueParams, number>();
const lineOf = (job: EnqueueParams) => LINES.get(job) ?? 0;

/** --worktree sets payload.worktree (the payload may say it too; the flag cannot be undone by it). */
function withWorktreeFlag(payload: Record<string, unknown>, worktree: boolean): Record<string, unknown> {
  return worktree ? { ...payload, worktree: true } : payload;
}



const FILE_KEYS = new Set(["kind", "queue", "priority", "payload", "delay", "run_at", "max_attempts",
  "concurrency_key", "concurrency_limit", "unique_key", "unique_states", "after"]);

function readJobsFile(path: string): EnqueueParams[] {
  let text: string;
  try {
    text = readFileSync(path === "-" ? 0 : path, "utf8");
  } catch (e: unknown) {
    throw new InputError("--file", `cannot read ${JSON.stringify(path)}: ${(e as Error).message}`);
  }
  const jobs: EnqueueParams[] = [];
  /** File line (1-based) -> index of its job, for "after" references to earlier lines. */
  const indexOfLine = new Map<number, number>();
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    const where = `--file line ${i + 1}`;
    const o = jsonObjectFlag(where, line);
    for (const key of Object.keys(o)) {
      if (!FILE_KEYS.has(key)) throw new InputError(where, `unknown key "${key}"; allowed: ${[...FILE_KEYS].join(", ")}`);
    }
    const job: EnqueueParams = {
      kind: o.kind as string | undefined, queue: o.queue as string | undefined, priority: o.priority as number | undefined,
      payload: o.payload as Record<string, unknown>, delay: o.delay as string | undefined,
      runAt: o.run_at as string | undefined, maxAttempts: o.max_attempts as number | undefined,
    };
    if (o.concurrency_key !== undefined) job.concurrencyKey = o.concurrency_key as string | null;
    if (o.concurrency_limit !== undefined) job.concurrencyLimit = o.concurrency_limit as number;
    if (o.unique_key !== undefined) job.uniqueKey = o.unique_key as string;
    if (o.unique_states !== undefined) job.uniqueStates = o.unique_states as EnqueueParams["uniqueStates"];
    if (o.after !== undefined) job.after = afterOfLine(where, o.after, i + 1, indexOfLine);
    indexOfLine.set(i + 1, jobs.length);
    LINES.set(job, i + 1);
    jobs.push(job);
  });
  if (jobs.length === 0) throw new InputError("--file", `${JSON.stringify(path)} holds no jobs`);
  return jobs;
}

/** "after" of a file line: job ids as they are, numbers as the line of an earlier job of the file. */
function afterOfLine(where: string, value: unknown, line: number, indexOfLine: Map<number, number>): (string | number)[] {
  if (!Array.isArray(value)) throw new InputError(`${where}: after`, `must be an array of job ids or earlier line numbers; got ${JSON.stringify(value)}`);
  return value.map((ref, k) => {
    if (typeof ref !== "number") return ref as string;
    const index = indexOfLine.get(ref);
    if (!Number.isInteger(ref) || ref >= line || index === undefined) {
      throw new InputError(`${where}: after[${k}]`, `must be a job id or the number of an earlier line holding a job; got ${JSON.stringify(ref)}`);
    }
    return index;
  });
}
