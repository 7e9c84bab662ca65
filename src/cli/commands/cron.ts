// `claude-jobs cron add|list|remove|pause|resume|run`: recurring jobs. A
// schedule lives in the database; every worker runs the scheduler, and each
// slot of a schedule becomes exactly one job however many workers run
// (src/schedule/scheduler.ts). Flags are checked before connecting, and the
// template as an enqueue is checked, so a bad one changes nothing.

import { InputError } from "../../errors.ts";
import { Schedules, type ScheduleInfo, type ScheduleParams } from "../../schedule/schedules.ts";
import { validateTimezone } from "../../schedule/cron.ts";
import { parseMissed } from "../../schedule/missed.ts";
import { workerListLive, workersServe } from "../../db/workers.ts";
import { openDatabase, type CliContext } from "../context.ts";
import { table } from "../format.ts";
import { jsonText, visible } from "../terminal.ts";
import { DATABASE_URL_OPTION, integerFlag, JSON_OPTION, jsonObjectFlag, type CommandSpec, type ParsedCommand } from "../options.ts";

const ACTIONS = ["add", "list", "remove", "pause", "resume", "run"] as const;
type Action = (typeof ACTIONS)[number];
/** The flags only `cron add` takes: the expression's zone, the missed policy, the job template. */
const ADD_FLAGS = ["payload", "kind", "queue", "priority", "max-attempts", "timezone", "missed", "unique-key"] as const;

export const spec: CommandSpec = {
  name: "cron",
  summary: "Recurring jobs: add (or replace) a schedule, list them with next and last run, remove, pause, resume, run one now.",
  usage: `claude-jobs cron add <name> "<expression>" --payload='{"prompt":"...","cwd":"."}' [--kind] [--queue] [--priority]
           [--max-attempts] [--timezone=Europe/Paris] [--missed=skip|once|all:N] [--unique-key=K]
       claude-jobs cron list [--json]
       claude-jobs cron remove|pause|resume <name>
       claude-jobs cron run <name>        (enqueue one job now; prints its id)
  <expression>: 5 fields, minute hour day-of-month month day-of-week (ranges 1-5, lists 1,3, steps */15,
  names JAN-DEC SUN-SAT), or @yearly @monthly @weekly @daily @hourly. A time that daylight saving skips has
  no run; a repeated one runs once. --missed: what a worker that was not running does with the slots it
  missed: skip them, once (one catch-up job), all:N (the last N).`,
  options: {
    payload: { type: "string", description: "add: the job's payload, a JSON object (claude: prompt, cwd, ...)" },
    kind: { type: "string", description: "add: the handler that runs the jobs", default: "claude" },
    queue: { type: "string", description: "add: queue name", default: "default" },
    priority: { type: "string", description: "add: higher runs first, -1000..1000", default: "0" },
    "max-attempts": { type: "string", description: "add: attempts before a job fails", default: "3" },
    timezone: { type: "string", description: "add: the IANA time zone of the expression's times", default: "UTC" },
    missed: { type: "string", description: "add: slots missed while no worker ran: skip, once or all:N", default: "once" },
    "unique-key": { type: "string", description: "add: no new job while the last one with this key is waiting, queued or running" },
    json: JSON_OPTION,
    "database-url": DATABASE_URL_OPTION,
  },
  positionals: ["action", "name?", "expression?"],
};

export async function run(ctx: CliContext, parsed: ParsedCommand): Promise<number> {
  const { values, positionals } = parsed;
  const [action, name, expression] = positionals as [string, string | undefined, string | undefined];
  if (!(ACTIONS as readonly string[]).includes(action)) {
    throw new InputError("action", `must be ${ACTIONS.join(", ")}; got ${JSON.stringify(action)}`);
  }
  const params = checkArguments(action as Action, parsed, name, expression);
  const db = await openDatabase(ctx, { databaseUrl: values["database-url"] as string | undefined, max: 2 });
  try {
    const schedules = new Schedules(db.sql);
    const out = (value: unknown, line: string) => ctx.out(values.json ? jsonText(value) : visible(line));
    switch (action as Action) {
      case "add": {
        const { schedule, created } = await schedules.add(params!);
        out(schedule, `schedule ${quote(schedule.name)} ${created ? "added" : "replaced"}: ${describe(schedule)}`);
        await warnIfUnserved(ctx, db.sql, schedule);
        break;
      }
      case "list": {
        const list = await schedules.list();
        if (values.json) ctx.out(jsonText(list));
        else ctx.out(list.length === 0 ? 'no schedules (claude-jobs cron add <name> "<expression>" --payload=...)' : listTable(list));
        break;
      }
      case "remove":
        await schedules.remove(name!);
        out({ name, removed: true }, `schedule ${quote(name!)} removed (its jobs stay)`);
        break;
      case "pause": {
        const schedule = await schedules.pause(name!);
        out(schedule, `schedule ${quote(schedule.name)} paused: no job is enqueued for it until cron resume (cron run still runs it)`);
        break;
      }
      case "resume": {
        const schedule = await schedules.resume(name!);
        out(schedule, `schedule ${quote(schedule.name)} resumed: ${describe(schedule)}`);
        break;
      }
      case "run": {
        // Only the id on stdout, as enqueue does: `id=$(claude-jobs cron run nightly)`.
        const { jobId, schedule } = await schedules.runNow(name!);
        if (values.json) ctx.out(jsonText({ jobId, schedule }));
        else ctx.out(jobId);
        break;
      }
    }
    return 0;
  } finally {
    await db.close();
  }
}

/**
 * The schedule is in; but the scheduler runs in workers, and its jobs need a
 * worker that handles their kind on their queue: say so when none runs
 * (stderr, a warning: a worker started later picks it all up).
 */
async function warnIfUnserved(ctx: CliContext, sql: Parameters<typeof workerListLive>[0], s: ScheduleInfo): Promise<void> {
  const workers = await workerListLive(sql).catch(() => null);
  if (workers === null) return;
  if (workers.length === 0) {
    ctx.err("warning: no worker is running; workers enqueue the slots of schedules, so nothing runs until one starts (claude-jobs worker)");
  } else if (!workersServe(workers, s.job.queue, s.job.kind)) {
    ctx.err(`warning: no live worker handles kind "${s.job.kind}" on queue "${s.job.queue}"; its jobs wait until one does (claude-jobs worker --queues=${s.job.queue})`);
  }
}

/** Each action's arguments and flags, checked before connecting; for add, the schedule to add. */
function checkArguments(action: Action, { values, sources }: ParsedCommand, name?: string, expression?: string): ScheduleParams | null {
  if (action === "list") {
    if (name !== undefined) throw new InputError("arguments", `cron list takes no name; got ${JSON.stringify(name)}`);
  } else if (name === undefined) {
    throw new InputError("name", `cron ${action} needs the schedule's name: claude-jobs cron ${action} <name>${action === "add" ? ' "<expression>" --payload=...' : ""}`);
  }
  if (action !== "add") {
    if (expression !== undefined) throw new InputError("arguments", `cron ${action} takes one name; got ${JSON.stringify(expression)} after it`);
    const given = ADD_FLAGS.find((f) => sources?.[f] === "flag");
    if (given) throw new InputError(`--${given}`, `only applies to cron add`);
    return null;
  }
  if (expression === undefined) throw new InputError("expression", 'is required: claude-jobs cron add <name> "<expression>", like "0 9 * * MON-FRI" or @hourly');
  if (values.payload === undefined) throw new InputError("--payload", 'is required: a JSON object like {"prompt":"summarize the new issues","cwd":"."}');
  parseMissed("--missed", values.missed);
  return {
    name: name!,
    expression,
    timezone: validateTimezone("--timezone", values.timezone),
    missed: values.missed as string,
    kind: values.kind as string,
    queue: values.queue as string,
    priority: integerFlag("--priority", values.priority as string),
    maxAttempts: integerFlag("--max-attempts", values["max-attempts"] as string),
    payload: jsonObjectFlag("--payload", values.payload as string),
    ...(values["unique-key"] !== undefined ? { uniqueKey: values["unique-key"] as string } : {}),
  };
}



const quote = (name: string) => JSON.stringify(name);

/**
 * A slot as its schedule reads it: the wall-clock time in the schedule's
 * zone and that zone's offset then (`2026-12-02 02:30+01:00`; `...Z` in UTC),
 * so both the time the user wrote and the instant are plain.
 */
function stamp(d: Date | null, timezone = "UTC"): string {
  if (!d) return "-";
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-US", {
    timeZone: timezone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
  }).formatToParts(d).map((p) => [p.type, p.value]));
  const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute));
  const offset = Math.round((wall - Math.floor(d.getTime() / 60_000) * 60_000) / 60_000);
  const zone = offset === 0 && timezone === "UTC" ? "Z"
    : `${offset < 0 ? "-" : "+"}${String(Math.floor(Math.abs(offset) / 60)).padStart(2, "0")}:${String(Math.abs(offset) % 60).padStart(2, "0")}`;
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}${zone}`;
}

function describe(s: ScheduleInfo): string {
  const next = s.paused ? "paused" : s.nextRunAt ? `next run ${stamp(s.nextRunAt, s.timezone)}` : "no run will come";
  return `${s.expression} (${s.timezone}, missed: ${s.missed}), kind ${s.job.kind} on queue ${s.job.queue}; ${next}`;
}

function listTable(list: ScheduleInfo[]): string {
  const rows = list.map((s) => [
    s.name, s.expression, s.timezone, s.missed, s.paused ? "paused" : "active", `${s.job.kind}@${s.job.queue}`,
    s.paused ? "-" : stamp(s.nextRunAt, s.timezone), stamp(s.lastRunAt, s.timezone),
    s.lastJobId ? `${s.lastJobId} (${s.lastJobStatus ?? "deleted"})` : "-",
  ]);
  return table(["NAME", "EXPRESSION", "TIMEZONE", "MISSED", "STATE", "KIND@QUEUE", "NEXT RUN", "LAST RUN", "LAST JOB"], rows.map((r) => r.map(visible)));
}
