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
  private readAgain = false;
  /** Pauses this worker is writing (count per account), and when its last write landed (a tick of reads and writes): a read that began before must not lift them. */
  private readonly writing = new Map<string, number>();
  private readonly writtenAt = new Map<string, number>();
  private tick = 0;

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

  /**
   * Reads this worker's accounts' pauses. A call while a read runs makes one
   * more read after it (that read may have started before the change that
   * was notified).
   */
  refresh(): Promise<void> {
    if (this.accounts.size === 0) return Promise.resolve();
    if (this.refreshing) {
      this.readAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.readAgain = false;
        await this.read();
      } while (this.readAgain);
    })().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private async read(): Promise<void> {
    const started = ++this.tick;
    try {
      const rows = await this.db.run((sql) => usagePausesOf(sql, [...this.accounts.keys()]));
      const now = this.now().getTime();
      const recorded = new Map(rows.filter((r) => r.pausedUntil!.getTime() > now).map((r) => [r.accountKey, r]));
      let lifted = false;
      for (const key of this.accounts.keys()) {
        const row = recorded.get(key);
        const held = this.pausedUntil.get(key);
        const until = row?.pausedUntil!.getTime();
        if (until !== undefined && until === held) continue;
        // A pause this worker is writing, or wrote after this read began, is newer than what the read saw.
        const newer = this.writing.has(key) || (this.writtenAt.get(key) ?? 0) > started;
        if (until === undefined || (held !== undefined && until < held)) {
          if (held === undefined || newer) continue;
          if (until === undefined) this.pausedUntil.delete(key);
          else this.pausedUntil.set(key, until);
          lifted = true;
        } else {
          if (held === undefined) this.events.paused({ accountKey: key, accountLabel: row!.accountLabel, until: row!.pausedUntil!, reason: row!.pauseReason ?? "" });
          this.pausedUntil.set(key, until);
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
    this.writing.set(n.accountKey, (this.writing.get(n.accountKey) ?? 0) + 1);
    const written = () => {
      this.writtenAt.set(n.accountKey, ++this.tick);
      const left = (this.writing.get(n.accountKey) ?? 1) - 1;
      if (left > 0) this.writing.set(n.accountKey, left);
      else this.writing.delete(n.accountKey);
    };
    void this.db.run((sql) => usagePauseRecord(sql, {
      accountKey: n.accountKey, accountLabel: n.accountLabel, until: n.resetsAt!, reason: n.reason, rateLimitType: n.rateLimitType, jobId: n.jobId,
    })).then((row) => {
      written();
      // Another worker may have recorded a later reset: keep that one.
      const recorded = row.pausedUntil?.getTime() ?? 0;
      if (recorded > (this.pausedUntil.get(n.accountKey) ?? 0)) this.pausedUntil.set(n.accountKey, recorded);
    }, (e: unknown) => {
      written();
      this.events.error(e);
    });
  }
}
