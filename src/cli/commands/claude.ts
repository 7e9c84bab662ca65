// `claude-jobs claude status|resume-now`: the Claude accounts paused on their
// usage limit (every worker of the account starts no Claude job until the
// reset; other kinds go on) and their recent warnings; resume-now lifts a
// pause early and makes the jobs parked on it due now. An account is its key:
// a hash of where its credential comes from and the Claude config folder,
// never the secret (src/handlers/claude/usage-limit.ts).

import { InputError } from "../../errors.ts";
import { usageList, usageResume, type AccountUsage } from "../../db/usage.ts";
import { formatResetTime, pausedText } from "../../handlers/claude/usage-limit.ts";
import { openDatabase, type CliContext } from "../context.ts";
import { table } from "../format.ts";
import { jsonText, visible } from "../terminal.ts";
import { DATABASE_URL_OPTION, JSON_OPTION, type CommandSpec, type ParsedCommand } from "../options.ts";

export const spec: CommandSpec = {
  name: "claude",
  summary: "Claude accounts paused on their usage limit and recent warnings (status); lift a pause early (resume-now: its parked jobs run now).",
  usage: "claude-jobs claude status [--json] | claude resume-now [--account=KEY] [--json]",
  options: {
    account: { type: "string", description: "resume-now: only the account with this key (or a prefix of it, 8 characters or more, as status shows)" },
    json: JSON_OPTION,
    "database-url": DATABASE_URL_OPTION,
  },
  positionals: ["action"],
};

export async function run(ctx: CliContext, { values, positionals }: ParsedCommand): Promise<number> {
  const [action] = positionals;
  if (action !== "status" && action !== "resume-now") throw new InputError("action", `must be status or resume-now; got ${JSON.stringify(action)}`);
  const account = values.account === undefined ? undefined : String(values.account).toLowerCase();
  if (account !== undefined && action !== "resume-now") throw new InputError("--account", "only applies to claude resume-now");
  if (account !== undefined && !/^[0-9a-f]{8,64}$/.test(account)) {
    throw new InputError("--account", `must be an account key (8 to 64 hex characters, as claude-jobs claude status shows); got ${JSON.stringify(values.account)}`);
  }
  const db = await openDatabase(ctx, { databaseUrl: values["database-url"] as string | undefined, max: 1 });
  try {
    const now = new Date();
    const accounts = await usageList(db.sql);
    if (action === "status") {
      if (values.json) ctx.out(jsonText(accounts));
      else if (accounts.length === 0) ctx.out("no Claude account is paused on its usage limit, and none was warned in the last hour");
      else ctx.out(statusTable(accounts, now));
      return 0;
    }
    let keys: string[] | null = null;
    if (account !== undefined) {
      keys = accounts.filter((a) => a.paused && a.accountKey.startsWith(account)).map((a) => a.accountKey);
      if (keys.length === 0) {
        throw new InputError("--account", `no paused account has a key starting with ${account}; claude-jobs claude status lists the paused ones`);
      }
    }
    const lifted = await usageResume(db.sql, keys);
    if (values.json) ctx.out(jsonText(lifted));
    else if (lifted.length === 0) ctx.out("no Claude account was paused: nothing to resume");
    else for (const l of lifted) {
      ctx.out(visible(`Claude resumed for ${l.accountKey.slice(0, 12)} (${l.accountLabel}): ${l.jobsDue} parked job(s) due now`));
    }
    return 0;
  } finally {
    await db.close();
  }
}

function statusTable(accounts: (AccountUsage & { paused: boolean })[], now: Date): string {
  const rows = accounts.map((a) => [
    a.accountKey.slice(0, 12), a.accountLabel,
    a.paused ? pausedText(a.pausedUntil!, now) : "running",
    a.warningAt && now.getTime() - a.warningAt.getTime() < 3600_000
      ? `warned at ${formatResetTime(a.warningAt, now)}${a.warningResetsAt ? `, resets ${formatResetTime(a.warningResetsAt, now)}` : ""}`
      : "",
  ]);
  return table(["ACCOUNT", "CREDENTIALS", "STATE", "WARNING"], rows.map((r) => r.map(visible)));
}

/**
 * The lines stats and workers print for paused accounts: "Claude paused until
 * 20:00 (usage limit)", naming the account when there are several; and the
 * latest warning of the last hour.
 */
export function usageLines(accounts: (AccountUsage & { paused: boolean })[], now: Date): string[] {
  const paused = accounts.filter((a) => a.paused && a.pausedUntil !== null);
  const lines = paused.map((a) => `${pausedText(a.pausedUntil!, now)}${paused.length > 1 ? ` for ${a.accountLabel}` : ""}: ` +
    "no Claude job starts on its workers; other kinds run (claude-jobs claude resume-now lifts it)");
  const warned = accounts.filter((a) => !a.paused && a.warningAt !== null && now.getTime() - a.warningAt.getTime() < 3600_000)
    .sort((a, b) => b.warningAt!.getTime() - a.warningAt!.getTime())[0];
  if (warned) {
    lines.push(`Claude usage limit near: warned at ${formatResetTime(warned.warningAt!, now)}` +
      (warned.warningResetsAt ? `, resets at ${formatResetTime(warned.warningResetsAt, now)}` : ""));
  }
  return lines;
}
