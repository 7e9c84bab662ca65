// The worker's connections for everything but its lock and claims: outcomes,
// progress, rescues, ownership checks. A client of its own (src/db/session.ts),
// never the caller's pool, because postgres.js 3.4.9 can leave a query
// hanging forever after PostgreSQL restarts (porsager/postgres#1193): a
// worker whose completer waits on such a query writes no outcome again,
// silently, and its jobs end up run twice. So every query here is bounded,
// and when one overruns, the client is replaced by a fresh one (the old one
// is ended, which rejects what it still held).

import type { Sql } from "../db/connect.ts";
import { ownClient } from "../db/session.ts";
import { QUERY_TIMEOUT } from "../db/unavailable.ts";
import { formatDuration } from "../duration.ts";
import { noAnswer, withDeadline } from "./deadline.ts";

/**
 * Long enough for any query of the worker on a loaded server (a batch of a
 * thousand outcomes takes tens of ms), short enough that a hung client is
 * replaced well within the shutdown's 10 s wait for outcomes.
 */
export const QUERY_TIMEOUT_MS = 8000;

export class WorkerDb {
  private client: Sql;
  private ended = false;

  constructor(private readonly pool: Sql, private readonly applicationName: string, private readonly max = 3) {
    this.client = this.open();
  }

  /** Runs `query` on the current client, bounded by `timeoutMs`; an overrun replaces the client. */
  run<T>(query: (sql: Sql) => Promise<T>, timeoutMs = QUERY_TIMEOUT_MS): Promise<T> {
    const client = this.client;
    return withDeadline(query(client), timeoutMs, () => {
      this.replace(client);
      return noAnswer(`no answer from PostgreSQL in ${formatDuration(timeoutMs)}; reconnecting`, QUERY_TIMEOUT);
    });
  }

  async end(): Promise<void> {
    this.ended = true;
    await this.client.end({ timeout: 1 }).catch(() => {});
  }

  private open(): Sql {
    return ownClient(this.pool, { applicationName: this.applicationName, max: this.max });
  }

  private replace(stuck: Sql): void {
    if (this.ended || this.client !== stuck) return; // replaced already
    this.client = this.open();
    void stuck.end({ timeout: 0 }).catch(() => {});
  }
}
