// The worker's identity and heartbeat: a row in claude_job_workers and a
// session advisory lock keyed on its id, held by a session of its own
// (src/db/session.ts) for the worker's whole life. PostgreSQL drops the lock
// the moment the process or its session dies, which is how rescuers learn
// that the worker may be gone: no lease, nothing to tune for hour-long jobs.
//
// The session also runs the worker's claims, so a job is only ever claimed by
// a session that holds the lock (the claim checks the backend pid).
//
// Losing the session is not losing the worker: the same id's lock is taken
// again on a new session (`acquire` once more), which counts the worker's
// lock generation up, and the worker keeps its jobs. The lock is checked, not
// assumed: a proof is any answer from the session known to hold it; `provenAt`
// is when the last such question was sent (see liveness.ts for what the
// worker does when proofs stop).

import type { Sql } from "../db/connect.ts";
import { CLAIM_SESSION_SETTINGS, jobClaim, type ClaimParams } from "../db/jobs.ts";
import { dedicatedSession } from "../db/session.ts";
import { withDeadline } from "./deadline.ts";
import { workerLock, workerLockHolderEnd, workerRegister, workerRelock, workerStop, type WorkerRegistration } from "../db/workers.ts";
import type { JobRecord } from "../handlers/types.ts";

export type LockState = "held" | "lost" | "unknown";

export class LockNotFreeError extends Error {}

export class WorkerLock {
  /** The worker's id (0 until registered); kept across sessions. */
  id = 0;
  generation = 0;
  /** performance.now() when the last question answered by the lock session was sent. */
  provenAt = 0;
  private session: Sql | null = null;
  private backendPid = 0;
  /** Counts sessions, so the close of an abandoned one is not taken for the current one's. */
  private serial = 0;
  private heldSerial = -1;

  constructor(
    private readonly pool: Sql,
    /** The lock session's application_name. */
    private readonly sessionName: string,
    private readonly registration: WorkerRegistration,
    private readonly onLost: (why: string) => void,
  ) {}

  /** Whether the current session holds the lock, as far as we know (no close seen). */
  get held(): boolean {
    return this.session !== null && this.heldSerial === this.serial;
  }

  /**
   * Takes the lock on a new session: registers the worker the first time,
   * re-takes the same id's lock afterwards. Throws when the database cannot
   * be reached (the caller retries) or the lock is not free yet.
   */
  async acquire(): Promise<"registered" | "relocked"> {
    this.abandon();
    const serial = ++this.serial;
    const session = dedicatedSession(this.pool, {
      applicationName: this.sessionName,
      onclose: () => this.closed(serial),
    });
    this.session = session;
    try {
      const sentAt = performance.now();
      // Let the server notice a vanished host within ~25 s instead of TCP's
      // default 2 h. The lock session sends nothing for hours when idle; a
      // server-wide idle_session_timeout (PostgreSQL 14+, common on managed
      // services) would end it and, with it, the worker's proof of life.
      await session.unsafe(`SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3;
        ${CLAIM_SESSION_SETTINGS}`);
      await session`SELECT set_config('idle_session_timeout', '0', false)
        WHERE current_setting('server_version_num')::int >= 140000`;
      const [row] = await session`SELECT pg_backend_pid() AS pid`;
      const backendPid = row!.pid as number;
      let outcome: "registered" | "relocked";
      if (this.id === 0) {
        const id = await workerRegister(session, this.registration);
        if (!(await workerLock(session, id))) throw new Error(`worker lock ${id} is already held`);
        this.id = id;
        this.generation = 1;
        outcome = "registered";
      } else {
        if (!(await workerLock(session, this.id))) {
          // Our own earlier session still holds it: the server has not yet
          // found its connection dead. End it and try again shortly.
          await workerLockHolderEnd(session, this.id);
          throw new LockNotFreeError(`worker lock ${this.id} is still held by this worker's previous session`);
        }
        this.generation = await workerRelock(session, this.id);
        outcome = "relocked";
      }
      if (serial !== this.serial || this.session !== session) throw new Error("lock session was replaced");
      this.backendPid = backendPid;
      this.heldSerial = serial;
      this.provenAt = sentAt;
      return outcome;
    } catch (e: unknown) {
      if (this.session === session) this.abandon();
      throw e;
    }
  }

  /**
   * Asks the lock session whether it still lives: "held" (and proven now),
   * "lost" (its connection is gone, or it is not the backend that took the
   * lock), or "unknown" (no answer in time).
   */
  async probe(timeoutMs: number): Promise<LockState> {
    const session = this.session;
    if (!session || !this.held) return "lost";
    const serial = this.serial;
    const sentAt = performance.now();
    const UNANSWERED = new Error("unanswered");
    try {
      const answer = await withDeadline(session`SELECT pg_backend_pid() AS pid`, timeoutMs, () => UNANSWERED);
      if (serial !== this.serial || !this.held) return "lost";
      if (answer[0]?.pid !== this.backendPid) return "lost";
      this.provenAt = Math.max(this.provenAt, sentAt);
      return "held";
    } catch (e: unknown) {
      return e === UNANSWERED ? "unknown" : "lost";
    }
  }

  /** Claims jobs on the lock session; jobs returned were claimed while it held the lock. */
  async claim(p: Omit<ClaimParams, "workerId" | "lockBackendPid">): Promise<JobRecord[]> {
    const session = this.session;
    if (!session || !this.held) return [];
    const sentAt = performance.now();
    const jobs = await jobClaim(session, { ...p, workerId: this.id, lockBackendPid: this.backendPid });
    if (jobs.length > 0) this.provenAt = Math.max(this.provenAt, sentAt);
    return jobs;
  }

  /** Gives the current session up without a word to it (it is lost, or not answering). */
  abandon(): void {
    const session = this.session;
    this.session = null;
    this.heldSerial = -1;
    // Ending a client whose connection is gone is safe: nothing is written to it.
    if (session) void session.end({ timeout: 0 }).catch(() => {});
  }

  /** A clean stop: marks the worker stopped and ends the session, which releases the lock. */
  async release(): Promise<void> {
    const session = this.session;
    if (!session) return;
    try {
      if (this.held) await workerStop(session, this.id);
    } catch {
      // The session is gone; its lock went with it.
    }
    this.session = null;
    this.heldSerial = -1;
    await session.end({ timeout: 1 }).catch(() => {});
  }

  private closed(serial: number): void {
    if (serial !== this.serial || this.heldSerial !== serial) return;
    this.heldSerial = -1;
    this.onLost("the lock session's connection closed");
  }
}
