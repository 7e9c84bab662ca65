// Typed wrappers around sql/queries/usage_*.sql: accounts' usage-limit
// pauses and their latest warnings (claude_job_usage_limits, 007). An account
// is its key (src/handlers/claude/usage-limit.ts); nothing here ever holds a
// credential.

import type { Queryable } from "./connect.ts";
import pauseRecord from "../../sql/queries/usage_pause_record.sql" with { type: "text" };
import warningRecord from "../../sql/queries/usage_warning_record.sql" with { type: "text" };
import pausesOf from "../../sql/queries/usage_pauses_of.sql" with { type: "text" };
import list from "../../sql/queries/usage_list.sql" with { type: "text" };
import resume from "../../sql/queries/usage_resume.sql" with { type: "text" };

/** The NOTIFY channel of pauses recorded or lifted; the payload is the account key. */
export const USAGE_CHANNEL = "claude_jobs_usage";

export interface AccountUsage {
  accountKey: string;
  accountLabel: string;
  /** Null, or in the past: not paused. */
  pausedUntil: Date | null;
  pausedAt: Date | null;
  pauseReason: string | null;
  rateLimitType: string | null;
  pausedByJob: string | null;
  warningAt: Date | null;
  warningResetsAt: Date | null;
  warningType: string | null;
  warningJob: string | null;
}

type Row = Record<string, unknown>;

async function run(sql: Queryable, text: string, params: unknown[]): Promise<Row[]> {
  return (await sql.unsafe(text, params as never[], { prepare: true })) as unknown as Row[];
}

const date = (v: unknown) => (v === null || v === undefined ? null : (v as Date));
const text = (v: unknown) => (v === null || v === undefined ? null : String(v));

function toUsage(r: Row): AccountUsage {
  return {
    accountKey: r.account_key as string, accountLabel: r.account_label as string,
    pausedUntil: date(r.paused_until), pausedAt: date(r.paused_at), pauseReason: text(r.pause_reason),
    rateLimitType: text(r.rate_limit_type), pausedByJob: text(r.paused_by_job),
    warningAt: date(r.warning_at), warningResetsAt: date(r.warning_resets_at), warningType: text(r.warning_type), warningJob: text(r.warning_job),
  };
}

export interface PauseRecord {
  accountKey: string;
  accountLabel: string;
  until: Date;
  reason: string;
  rateLimitType: string | null;
  jobId: string | null;
}

/** Pauses the account (keeping a later reset another worker recorded) and notifies every worker. */
export async function usagePauseRecord(sql: Queryable, p: PauseRecord): Promise<AccountUsage> {
  const rows = await run(sql, pauseRecord, [p.accountKey, p.accountLabel, p.until.toISOString(), p.reason, p.rateLimitType, p.jobId]);
  return toUsage(rows[0]!);
}

export async function usageWarningRecord(
  sql: Queryable, p: { accountKey: string; accountLabel: string; resetsAt: Date | null; rateLimitType: string | null; jobId: string | null },
): Promise<void> {
  await run(sql, warningRecord, [p.accountKey, p.accountLabel, p.resetsAt?.toISOString() ?? null, p.rateLimitType, p.jobId]);
}

/** The recorded pauses of these accounts, past ones included. */
export async function usagePausesOf(sql: Queryable, accountKeys: string[]): Promise<AccountUsage[]> {
  return (await run(sql, pausesOf, [accountKeys])).map(toUsage);
}

/** Accounts paused now, and those warned within `warningWithinMs` (default an hour). */
export async function usageList(sql: Queryable, warningWithinMs = 3600_000): Promise<(AccountUsage & { paused: boolean })[]> {
  return (await run(sql, list, [warningWithinMs / 1000])).map((r) => ({ ...toUsage(r), paused: r.paused === true }));
}

/** Lifts the pauses of these accounts (null: all) and makes their parked jobs due now. */
export async function usageResume(sql: Queryable, accountKeys: string[] | null): Promise<{ accountKey: string; accountLabel: string; jobsDue: number }[]> {
  const rows = await run(sql, resume, [accountKeys]);
  return rows.map((r) => ({ accountKey: r.account_key as string, accountLabel: r.account_label as string, jobsDue: Number(r.jobs_due) }));
}
