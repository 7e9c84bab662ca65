// The worker's view of its accounts' usage-limit pauses (claude_job_usage_limits,
// 007), kept in memory so that the claim never waits for it: the claim just
// leaves out the kinds whose account is paused. The view is refreshed when
// this worker records a pause, when any worker records or lifts one (NOTIFY
// claude_jobs_usage: a hint), and on every poll (the truth, as for jobs).
// A worker with no kind tied to an account (usageAccount) does nothing here.

import type { Sql } from "../db/connect.ts";
import { USAGE_CHANNEL, usagePauseRecord, usagePausesOf, usageWarningRecord } from "../db/usage.ts";
import type { AccountLimitNotice, HandlerDefinition } from "../handlers/types.ts";
import type { WorkerDb } from "./db.ts";

export interface UsagePauseEvents {
  /** The set of claimable kinds may have grown: claim again. */
  changed(): void;
  /** An account of this worker was paused (by it or another worker). */
  paused(p: { accountKey: string; accountLabel: string; until: Date; reason: string }): void;
  error(e: unknown): void;
}

export class UsagePauses {
  /** account key -> the kinds it holds back. */
  private readonly accounts = new Map<string, string[]>();
  /** account key -> paused until (ms since the epoch). */
  private readonly pausedUntil = new Map<string, number>();
  private unlisten: (() => Promise<void>) | null = null;
  private refreshing: Promise<void> | null = null;

  constructor(
    private readonly sql: Sql,
    private readonly db: WorkerDb,
    handlers: [string, HandlerDefinition][],
    private readonly events: UsagePauseEvents,
    private readonly now: () => Date,
  ) {
    for (const [kind, def] of handlers) {
      if (def.usageAccount) this.accounts.set(def.usageAccount, [...(this.accounts.get(def.usageAccount) ?? []), kind]);
    }
  }

  /** The kinds to claim now: `kinds` less those of a paused account (the same array when none is). */
  claimable(kinds: string[]): string[] {
    if (this.pausedUntil.size === 0) return kinds;
    const now = this.now().getTime();
    let out = kinds;
    for (const [key, until] of this.pausedUntil) {
      if (until <= now) {
        this.pausedUntil.delete(key);
        continue;
      }
      const held = this.accounts.get(key) ?? [];
      out = out.filter((k) => !held.includes(k));
    }
    return out;
  }

  /** Whether `accountKey` is paused now, and until when. */
  pausedAt(accountKey: string): Date | null {
    const until = this.pausedUntil.get(accountKey);
    return until !== undefined && until > this.now().getTime() ? new Date(until) : null;
  }

  async start(): Promise<void> {
    if (this.accounts.size === 0) return;
    try {
      // onlisten runs on every (re)listen: what was missed meanwhile is read then.
      const { unlisten } = await this.sql.listen(USAGE_CHANNEL, (key) => {
        if (this.accounts.has(key)) void this.refresh();
      }, () => void this.refresh());
      this.unlisten = unlisten;
    } catch (e: unknown) {
      this.events.error(e); // the poll still refreshes
    }
    // Before the first claim: a worker started while its account is paused claims none of its jobs.
    await this.refresh();
  }

  async stop(): Promise<void> {
    await this.unlisten?.().catch(() => {});
    this.unlisten = null;
    await this.refreshing;
  }

  /** Reads this worker's accounts' pauses; coalesces calls while one runs. */
  refresh(): Promise<void> {
    if (this.accounts.size === 0) return Promise.resolve();
    this.refreshing ??= this.read().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private async read(): Promise<void> {
    try {
      const rows = await this.db.run((sql) => usagePausesOf(sql, [...this.accounts.keys()]));
      const now = this.now().getTime();
      let lifted = false;
      const seen = new Set<string>();
      for (const r of rows) {
        const until = r.pausedUntil!.getTime();
        if (until <= now) continue;
        seen.add(r.accountKey);
        if (this.pausedUntil.get(r.accountKey) !== until) {
          const was = this.pausedUntil.get(r.accountKey);
          if (was !== undefined && until < was) lifted = true;
          if (was === undefined) this.events.paused({ accountKey: r.accountKey, accountLabel: r.accountLabel, until: r.pausedUntil!, reason: r.pauseReason ?? "" });
          this.pausedUntil.set(r.accountKey, until);
        }
      }
      for (const key of [...this.pausedUntil.keys()]) {
        if (!seen.has(key)) {
          this.pausedUntil.delete(key);
          lifted = true;
        }
      }
      if (lifted) this.events.changed();
    } catch (e: unknown) {
      this.events.error(e);
    }
  }

  /**
   * A handler's notice. A reached limit pauses the account here at once
   * (before the job's outcome frees its slot, so the next claim already
   * leaves the kind out), then in the database for every other worker.
   */
  record(n: AccountLimitNotice): void {
    if (n.status === "warning") {
      void this.db.run((sql) => usageWarningRecord(sql, {
        accountKey: n.accountKey, accountLabel: n.accountLabel, resetsAt: n.resetsAt, rateLimitType: n.rateLimitType, jobId: n.jobId,
      })).catch((e: unknown) => this.events.error(e));
      return;
    }
    if (n.resetsAt === null) return;
    const until = n.resetsAt.getTime();
    if (until > (this.pausedUntil.get(n.accountKey) ?? 0)) {
      const first = !this.pausedUntil.has(n.accountKey);
      this.pausedUntil.set(n.accountKey, until);
      if (first) this.events.paused({ accountKey: n.accountKey, accountLabel: n.accountLabel, until: n.resetsAt, reason: n.reason });
    }
    void this.db.run((sql) => usagePauseRecord(sql, {
      accountKey: n.accountKey, accountLabel: n.accountLabel, until: n.resetsAt!, reason: n.reason, rateLimitType: n.rateLimitType, jobId: n.jobId,
    })).then((row) => {
      // Another worker may have recorded a later reset: keep that one.
      const recorded = row.pausedUntil?.getTime() ?? 0;
      if (recorded > (this.pausedUntil.get(n.accountKey) ?? 0)) this.pausedUntil.set(n.accountKey, recorded);
    }, (e: unknown) => this.events.error(e));
  }
}
