// The worker's identity and heartbeat: a row in claude_job_workers and a
// session advisory lock keyed on its id, held on a connection reserved from
// the pool for the worker's whole life. PostgreSQL drops the lock the moment
// the process or its connection dies, which is how rescuers know the worker's
// jobs are orphans: no lease, nothing to tune for hour-long jobs.
//
// The lock is checked, not assumed: a periodic probe asks PostgreSQL whether
// THIS backend still holds it (a silently reconnected socket would not). When
// the probe fails the worker must stop its jobs, since they may be rescued.

import type { ReservedSql } from "postgres";
import type { Sql } from "../db/connect.ts";
import { workerLock, workerRegister, workerStop } from "../db/workers.ts";

export interface WorkerIdentity {
  host: string;
  pid: number;
  queues: string[];
  concurrency: number;
  version: string;
}

export type LockState = "held" | "lost" | "unknown";

export class WorkerLock {
  private reserved: ReservedSql | null = null;
  private backendPid = 0;
  id = 0;

  constructor(private readonly sql: Sql, private readonly identity: WorkerIdentity) {}

  /** Registers a new worker id and takes its lock. Called at start and after the lock was lost. */
  async acquire(): Promise<number> {
    await this.release(false, true);
    const reserved = await this.sql.reserve();
    try {
      // Let the server notice a vanished host within ~30s instead of TCP's default 2h.
      await reserved`SET tcp_keepalives_idle = 10`;
      await reserved`SET tcp_keepalives_interval = 5`;
      await reserved`SET tcp_keepalives_count = 3`;
      // The lock session sends nothing for hours; a server-wide
      // idle_session_timeout (PostgreSQL 14+, common on managed services)
      // would end it and, with it, every job of this worker.
      await reserved`SELECT set_config('idle_session_timeout', '0', false)
        WHERE current_setting('server_version_num')::int >= 140000`;
      const id = await workerRegister(reserved, this.identity);
      if (!(await workerLock(reserved, id))) throw new Error(`worker lock ${id} is already held`);
      const [row] = await reserved`SELECT pg_backend_pid() AS pid`;
      this.backendPid = row!.pid as number;
      this.reserved = reserved;
      this.id = id;
      return id;
    } catch (e: unknown) {
      reserved.release();
      throw e;
    }
  }

  /**
   * Whether this worker's own session still holds its lock: "held", "lost"
   * (PostgreSQL says no, or our session is gone), or "unknown" (no answer in
   * time: a busy pool, a starved event loop, a database restarting). Unknown
   * is not lost: while our session lives it keeps the lock and nobody can
   * rescue our jobs, so stopping them on a slow answer would only waste work.
   */
  async probe(timeoutMs: number): Promise<LockState> {
    const reserved = this.reserved;
    if (!reserved) return "lost";
    const timeout = new Promise<"timeout">((resolve) => setTimeout(resolve, timeoutMs, "timeout").unref?.());
    // Ask from the pool first: when our session is gone nothing may be sent on
    // its connection (see release). The server's answer is authoritative.
    try {
      const outcome = await Promise.race([this.sql`
        SELECT count(*)::int AS held FROM pg_locks
        WHERE locktype = 'advisory' AND classid = 17226 AND objsubid = 2 AND granted
          AND objid::integer = ${this.id} AND pid = ${this.backendPid}`, timeout]);
      if (outcome !== "timeout") return outcome[0]?.held === 1 ? "held" : "lost";
    } catch {
      // The pool cannot tell; ask on the reserved connection itself.
    }
    const check = reserved`
      SELECT count(*)::int AS held FROM pg_locks
      WHERE locktype = 'advisory' AND classid = 17226 AND objsubid = 2 AND granted
        AND objid::integer = ${this.id} AND pid = ${this.backendPid} AND pid = pg_backend_pid()`;
    try {
      const outcome = await Promise.race([check, timeout]);
      if (outcome === "timeout") return "unknown";
      return outcome[0]?.held === 1 ? "held" : "lost";
    } catch {
      return "lost"; // the reserved session itself failed: its lock went with it
    }
  }

  /**
   * Ends the lock session: a clean stop, or (`lost`) giving up a lock we can
   * no longer prove. A lost session is never queried nor returned to the
   * pool: postgres.js never settles a query sent on a dead reserved
   * connection (and throws a TypeError from a timer), and a closed connection
   * handed back poisons the pool. If it still lives and holds our lock, it is
   * ended from another connection, which also frees its pool slot.
   */
  async release(stopped = false, lost = false): Promise<void> {
    const reserved = this.reserved;
    this.reserved = null;
    if (!reserved) return;
    if (lost) {
      await this.sql`
        SELECT pg_terminate_backend(pid) FROM pg_locks
        WHERE locktype = 'advisory' AND classid = 17226 AND objsubid = 2 AND granted
          AND objid::integer = ${this.id} AND pid = ${this.backendPid}`.catch(() => {});
      return;
    }
    try {
      if (stopped) await workerStop(reserved, this.id);
      await reserved`SELECT pg_advisory_unlock(17226, ${this.id})`;
      reserved.release();
    } catch {
      // The session is gone or broken; its lock went with it. Do not return it to the pool.
    }
  }
}
