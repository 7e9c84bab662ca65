// `claude-jobs enqueue`: one job from flags, or many from a JSON Lines file
// (or stdin) in one transaction: all or none. Prints only job ids on stdout.

import { readFileSync } from "node:fs";
import { InputError } from "../../errors.ts";
import { Queue, type EnqueueParams } from "../../queue/client.ts";
import { workersServe } from "../../db/workers.ts";
import { openDatabase, type CliContext } from "../context.ts";
import { DATABASE_URL_OPTION, type CommandSpec, type ParsedCommand } from "../options.ts";

export const spec: CommandSpec = {
  name: "enqueue",
  summary: "Add a job to the queue and print its id.",
  usage: `claude-jobs enqueue --payload='{"prompt":"...","cwd":"."}' [options]
       claude-jobs enqueue --file=jobs.jsonl   (one JSON job per line: {"kind","queue","priority","payload","delay","run_at","max_attempts"}; - for stdin)`,
  options: {
    payload: { type: "string", description: "the job's payload, a JSON object (claude: prompt, cwd, model, max_turns, timeout, ...)" },
    kind: { type: "string", description: "the handler that runs the job", default: "claude" },
    queue: { type: "string", description: "queue name", default: "default" },
    priority: { type: "string", description: "higher runs first, -1000..1000", default: "0" },
    delay: { type: "string", description: "run after this long: 90s, 5m, 1h30m" },
    "run-at": { type: "string", description: "run at this ISO 8601 time" },
    "max-attempts": { type: "string", description: "attempts before the job fails", default: "3" },
    file: { type: "string", description: "enqueue every job of a JSON Lines file (- for stdin), all or none" },
    "database-url": DATABASE_URL_OPTION,
  },
};

export async function run(ctx: CliContext, { values }: ParsedCommand): Promise<number> {
  const jobs = values.file !== undefined ? readJobsFile(values.file as string) : [jobFromFlags(values)];
  // Flags and file are parsed before connecting; the queue validates each job before writing any.
  const db = await openDatabase(ctx, { databaseUrl: values["database-url"] as string | undefined, max: 2 });
  try {
    const queue = new Queue(db.sql);
    const ids = jobs.length === 1 && values.file === undefined ? [await queue.enqueue(jobs[0]!)] : await queue.enqueueMany(jobs);
    ctx.out(ids.join("\n"));
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
    payload: parseJsonObject("--payload", values.payload as string),
    ...(values.delay !== undefined ? { delay: values.delay as string } : {}),
    ...(values["run-at"] !== undefined ? { runAt: values["run-at"] as string } : {}),
  };
}

function integerFlag(flag: string, text: string): number {
  if (!/^-?\d+$/.test(text.trim())) throw new InputError(flag, `must be an integer; got ${JSON.stringify(text)}`);
  return Number(text);
}

function parseJsonObject(field: string, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e: unknown) {
    throw new InputError(field, `must be a JSON object: ${(e as Error).message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new InputError(field, "must be a JSON object");
  return value as Record<string, unknown>;
}

const FILE_KEYS = new Set(["kind", "queue", "priority", "payload", "delay", "run_at", "max_attempts"]);

function readJobsFile(path: string): EnqueueParams[] {
  let text: string;
  try {
    text = readFileSync(path === "-" ? 0 : path, "utf8");
  } catch (e: unknown) {
    throw new InputError("--file", `cannot read ${JSON.stringify(path)}: ${(e as Error).message}`);
  }
  const jobs: EnqueueParams[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    const o = parseJsonObject(`--file line ${i + 1}`, line);
    for (const key of Object.keys(o)) {
      if (!FILE_KEYS.has(key)) throw new InputError(`--file line ${i + 1}`, `unknown key "${key}"; allowed: ${[...FILE_KEYS].join(", ")}`);
    }
    jobs.push({
      kind: o.kind as string | undefined, queue: o.queue as string | undefined, priority: o.priority as number | undefined,
      payload: o.payload as Record<string, unknown>, delay: o.delay as string | undefined,
      runAt: o.run_at as string | undefined, maxAttempts: o.max_attempts as number | undefined,
    });
  });
  if (jobs.length === 0) throw new InputError("--file", `${JSON.stringify(path)} holds no jobs`);
  return jobs;
}
