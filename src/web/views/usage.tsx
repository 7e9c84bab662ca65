/** @jsxImportSource @kitajs/html */
// Usage limits on the dashboard: a small notice on the overview for each
// Claude account paused on its usage limit ("Claude paused until 20:00 (usage
// limit)") or warned in the last hour, and the line on a job's page that says
// it is parked on the limit, or that its run saw the limit coming.

import type { AccountUsage } from "../../db/usage.ts";
import type { JobRecord } from "../../handlers/types.ts";
import { formatResetTime, pausedText } from "../../handlers/claude/usage-limit.ts";
import { esc } from "./format.ts";

export type AccountUsageRow = AccountUsage & { paused: boolean };

/** The overview's notices: paused accounts first, then the most recent warning of the last hour. */
export function UsageNotices({ accounts, now = new Date() }: { accounts: AccountUsageRow[]; now?: Date }) {
  const paused = accounts.filter((a) => a.paused && a.pausedUntil !== null);
  const warned = accounts.filter((a) => !a.paused && a.warningAt !== null && now.getTime() - a.warningAt.getTime() < 3600_000)
    .sort((a, b) => b.warningAt!.getTime() - a.warningAt!.getTime()).slice(0, 1);
  if (paused.length === 0 && warned.length === 0) return "";
  const who = (a: AccountUsageRow) => (accounts.length > 1 || paused.length > 1 ? ` for ${a.accountLabel}` : "");
  return (
    <section class="warnings" aria-label="Claude usage limits">
      {paused.map((a) => (
        <div class="notice warn" role="status" data-usage-paused={a.accountKey.slice(0, 12)} title={a.pauseReason ?? undefined}>
          {esc(`${pausedText(a.pausedUntil!, now)}${who(a)}: no Claude job starts on its workers until then; other kinds run. `)}
          <span class="muted">{esc("claude-jobs claude resume-now lifts it early.")}</span>
        </div>
      ))}
      {warned.map((a) => (
        <div class="notice" role="status" data-usage-warning={a.accountKey.slice(0, 12)}>
          {esc(`Claude usage limit near${who(a)}: warned at ${formatResetTime(a.warningAt!, now)}` +
            (a.warningResetsAt ? `; it resets at ${formatResetTime(a.warningResetsAt, now)}` : ""))}
          {a.warningJob ? <> (<a href={`/jobs/${a.warningJob}`}>job</a>)</> : ""}
        </div>
      ))}
    </section>
  );
}

/** On a job's page: parked on the usage limit (while queued), or a warning its run saw. */
export function UsageLimitLine({ job, now = new Date() }: { job: JobRecord; now?: Date }) {
  const r = job.result;
  if (!r || job.kind !== "claude") return "";
  const parked = r.usageLimit as { reason?: unknown } | undefined;
  if (job.status === "queued" && parked && typeof parked.reason === "string") {
    return <div class="notice warn" role="status" data-usage-limit>{esc(`Parked: ${parked.reason}. Its session resumes then; the attempt was not counted.`)}</div>;
  }
  const warning = r.rateLimitWarning as { resetsAt?: unknown; rateLimitType?: unknown; utilization?: unknown } | undefined;
  if (warning && typeof warning === "object") {
    const resets = typeof warning.resetsAt === "number" ? `; it resets at ${formatResetTime(new Date(warning.resetsAt * 1000), now)}` : "";
    const used = typeof warning.utilization === "number" ? ` (${Math.round(warning.utilization * 100)}% used)` : "";
    const type = typeof warning.rateLimitType === "string" ? ` ${warning.rateLimitType.replace(/_/g, "-")}` : "";
    return <div class="notice" role="status" data-usage-warning>{esc(`The run was warned that the${type} usage limit is near${used}${resets}.`)}</div>;
  }
  return "";
}
