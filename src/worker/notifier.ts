// LISTEN for wake-ups and cancel requests. NOTIFY is a latency hint, never
// the truth: the worker polls anyway. postgres.js re-listens by itself after
// a lost connection and calls `onlisten` each time; that is when we fetch
// what we may have missed meanwhile.

import type { Sql } from "../db/connect.ts";

export const WAKE_CHANNEL = "claude_jobs";
export const CANCEL_CHANNEL = "claude_jobs_cancel";

export interface NotifierEvents {
  wake(queue: string): void;
  cancel(jobId: string): void;
  /** Called on the first listen and on every re-listen after a reconnect. */
  listening(channel: string): void;
  error(e: unknown): void;
}

export class Notifier {
  private unlisteners: (() => Promise<void>)[] = [];
  /** Channels listened to (postgres.js re-listens them by itself after a reconnect). */
  private readonly subscribed = new Set<string>();

  constructor(private readonly sql: Sql, private readonly events: NotifierEvents) {}

  /** Listens to the channels not yet listened to; called at start and again after a reconnect. */
  async start(): Promise<void> {
    const subscribe = async (channel: string, onNotify: (payload: string) => void) => {
      if (this.subscribed.has(channel)) return;
      this.subscribed.add(channel);
      try {
        const { unlisten } = await this.sql.listen(channel, onNotify, () => this.events.listening(channel));
        this.unlisteners.push(unlisten);
      } catch (e: unknown) {
        // Polling still runs; the next start() (after a reconnect) tries again.
        this.subscribed.delete(channel);
        this.events.error(e);
      }
    };
    await Promise.all([
      subscribe(WAKE_CHANNEL, (queue) => this.events.wake(queue)),
      subscribe(CANCEL_CHANNEL, (id) => this.events.cancel(id)),
    ]);
  }

  async stop(): Promise<void> {
    const all = this.unlisteners.splice(0);
    this.subscribed.clear();
    await Promise.all(all.map((u) => u().catch(() => {})));
  }
}
