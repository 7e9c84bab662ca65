// `claude-jobs cleanup`: retention on demand. Deletes the jobs that ended
// longer ago than the retention periods (what every worker's maintenance task
// does every 10 minutes), in short batches, with their log files on this host,
// and says what it deleted; --dry-run deletes nothing and says what it would.

import { cleanup, parseRetention, type CleanupReport } from "../../worker/retention.ts";
import { openDatabase, type CliContext } from "../context.ts";
import { LOG_DIR_OPTION, resolveLogDir } from "../log-dir.ts";
import { jsonText, visible } from "../terminal.ts";
import { RETAIN_FAILED_OPTION, RETAIN_FINISHED_OPTION } from "../retention-options.ts";
import { DATABASE_URL_OPTION, JSON_OPTION, type CommandSpec, type ParsedCommand } from "../options.ts";

export const spec: CommandSpec = {
  name: "cleanup",
  summary: "Delete jobs that ended long ago (finished and cancelled: 14 days, failed: 30) and their log files on this host; --dry-run says what would go.",
  usage: "claude-jobs cleanup [--older-than=14d] [--failed-older-than=30d] [--dry-run] [--orphans] [--json]",
  options: {
    "older-than": { ...RETAIN_FINISHED_OPTION, description: "finished and cancelled jobs that ended longer ago than this (0 or off: none)" },
    "failed-older-than": { ...RETAIN_FAILED_OPTION, description: "failed jobs that ended longer ago than this (0 or off: none)" },
    "dry-run": { type: "boolean", description: "delete nothing; count what would be deleted" },
    orphans: {
      type: "boolean",
      description: "also remove the log files in --log-dir of jobs that are not in this database (deleted by another host's worker, or by delete), " +
        "older than the shorter period; only for a log folder that no other database's jobs write to",
    },
    "log-dir": LOG_DIR_OPTION,
    json: JSON_OPTION,
    "database-url": DATABASE_URL_OPTION,
  },
};

export async function run(ctx: CliContext, { values }: ParsedCommand): Promise<number> {
  // Checked before the database is opened: bad input changes nothing.
  const policy = {
    finishedMs: parseRetention("--older-than", String(values["older-than"])),
    failedMs: parseRetention("--failed-older-than", String(values["failed-older-than"])),
  };
  const logDir = resolveLogDir(ctx.env, values["log-dir"]);
  const db = await openDatabase(ctx, { databaseUrl: values["database-url"] as string | undefined, max: 2 });
  try {
    const report = await cleanup((query) => query(db.sql), {
      policy, now: new Date(), logDir, dryRun: values["dry-run"] === true, sweepOrphans: values.orphans === true,
    });
    if (values.json) ctx.out(jsonText(report));
    else ctx.out(visible(summary(report, logDir)));
    for (const problem of report.problems) ctx.err(`warning: could not remove ${problem}`);
    if (report.busy) {
      ctx.err("another cleaner holds the retention lock (a worker's retention task, or another cleanup): it is deleting these jobs now; this run stopped");
    }
    return 0;
  } finally {
    await db.close();
  }
}

function summary(r: CleanupReport, logDir: string): string {
  const verb = r.dryRun ? "would delete" : "deleted";
  const limits = [
    r.finishedBefore ? `finished and cancelled before ${stamp(r.finishedBefore)}` : "finished and cancelled: kept",
    r.failedBefore ? `failed before ${stamp(r.failedBefore)}` : "failed: kept",
  ].join("; ");
  const lines = [
    `${verb} ${r.total} job(s): ${r.deleted.finished} finished, ${r.deleted.cancelled} cancelled, ${r.deleted.failed} failed (${limits})`,
    `${verb} ${r.filesRemoved} log file(s) and ${r.worktreesRemoved} worktree folder(s) (branches kept) on this host ` +
      `(${logDir} and the folders the jobs' results name); each host removes its own`,
  ];
  if (r.orphanFilesRemoved > 0) lines.push(`${verb} ${r.orphanFilesRemoved} log file(s) in ${logDir} of jobs deleted earlier or by another host`);
  for (const [queue, c] of Object.entries(r.queues)) {
    lines.push(`  ${queue}: ${c.finished} finished, ${c.cancelled} cancelled, ${c.failed} failed`);
  }
  return lines.join("\n");
}

const stamp = (d: Date) => d.toISOString().slice(0, 19).replace("T", " ") + "Z";
