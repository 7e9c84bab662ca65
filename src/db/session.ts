// One long-lived session of its own, beside a pool: the worker's lock session.
//
// Why not `pool.reserve()`: postgres.js 3.4.9 never settles a query sent on a
// reserved connection whose socket has closed, and a reserved connection that
// closed goes back to the pool's closed queue, where it may be reconnected
// under us for other queries. Nor a transaction: when a transaction's
// connection is lost, sql.begin writes ROLLBACK to the closed socket and
// `TypeError: null is not an object (evaluating 'socket.write')` is thrown
// from a timer, where no caller can catch it. A client of its own with one
// connection, used without transactions, has neither problem: after a close
// its next query opens a new session, and `onclose` tells us at once that the
// old one, and every session lock it held, is gone.
// (Both pinned in tests/engine/postgres-js.test.ts; 3.4.9 is the newest release.)

import postgres from "postgres";
import type { Sql } from "./connect.ts";

export interface SessionOptions {
  applicationName: string;
  /** The session's connection closed (for any reason: ended, cut, terminated). */
  onclose: () => void;
}

export function dedicatedSession(pool: Sql, o: SessionOptions): Sql {
  const p = pool.options as unknown as Record<string, unknown> & { connection?: Record<string, unknown> };
  return postgres({
    host: p.host as string[] as never,
    port: p.port as number[] as never,
    path: p.path as string | undefined,
    database: p.database as string,
    user: p.user as string,
    pass: p.pass as never,
    ssl: p.ssl as never,
    connect_timeout: p.connect_timeout as number,
    target_session_attrs: p.target_session_attrs as never,
    socket: p.socket as never,
    max: 1,
    // Never closed by the client: the session IS the worker's heartbeat.
    idle_timeout: 0,
    max_lifetime: 0 as never,
    // The client side of a cut connection learns of it within ~10-25 s.
    keep_alive: 10,
    onnotice: () => {},
    onclose: () => o.onclose(),
    connection: { ...(p.connection ?? {}), application_name: o.applicationName },
  });
}
