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
//
// And a third: after PostgreSQL restarts, a pooled query can hang forever
// (the server closes the connection during startup and postgres.js
// reconnects without end; porsager/postgres#1193, fix proposed in #1214, not
// released). So every query the worker sends is bounded, and a client that
// left one hanging is replaced (src/worker/db.ts).

import postgres from "postgres";
import type { Sql } from "./connect.ts";

export interface ClientOptions {
  applicationName: string;
  /** Connections in the client's pool. */
  max: number;
  /** A connection closed (for any reason: ended, cut, terminated). */
  onclose?: () => void;
}

/**
 * A client of our own, with the connection settings of `pool` (the one the
 * caller gave us): the worker's lock session (max 1), and the connections
 * the worker writes its outcomes on, which it can replace when postgres.js
 * leaves a query hanging (see WorkerDb).
 */
export function ownClient(pool: Sql, o: ClientOptions): Sql {
  const p = pool.options as unknown as Record<string, unknown> & { connection?: Record<string, unknown> };
  // The parsed options (host and port as arrays, the password as given) go
  // back in as they are; postgres.js takes both forms.
  const options = {
    host: p.host, port: p.port, path: p.path, database: p.database, user: p.user, pass: p.pass, ssl: p.ssl,
    connect_timeout: p.connect_timeout, target_session_attrs: p.target_session_attrs, socket: p.socket,
    max: o.max,
    // Never closed by the client: the lock session IS the worker's heartbeat.
    idle_timeout: 0,
    max_lifetime: 0,
    // The client side of a cut connection learns of it within ~10-25 s.
    keep_alive: 10,
    onnotice: () => {},
    onclose: () => o.onclose?.(),
    connection: { ...(p.connection ?? {}), application_name: o.applicationName },
  } as unknown as postgres.Options<Record<string, postgres.PostgresType>>;
  return postgres(options);
}

/** The worker's lock session: one connection of its own. */
export function dedicatedSession(pool: Sql, o: { applicationName: string; onclose: () => void }): Sql {
  return ownClient(pool, { ...o, max: 1 });
}
