// Which errors mean "the database cannot be reached right now" (so wait and
// try again) rather than "this will not work" (a wrong password, a missing
// database, a bad query: say so and stop). The worker keeps its jobs and goes
// on through the first kind; it must never mistake the second for it.

/** postgres.js's own connection error codes, and the OS's. */
const CONNECTION_CODES = new Set([
  // postgres.js's own: closed (also while starting up), ended under a query, no answer within connect_timeout.
  "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "CONNECT_TIMEOUT",
  "ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "ETIMEDOUT", "EHOSTUNREACH", "EHOSTDOWN", "ENETUNREACH", "ENETDOWN", "EPIPE",
  // A name that does not resolve yet: a compose or Kubernetes service whose
  // container is not up, a host still bringing its network up at boot.
  "ENOTFOUND", "EAI_AGAIN",
  // A Unix socket (host=/var/run/postgresql) that is not there while the server is down.
  "ENOENT",
]);

/** The code of a query the worker gave up waiting for (src/worker/db.ts): as good as a lost connection. */
export const QUERY_TIMEOUT = "CLAUDE_JOBS_QUERY_TIMEOUT";

/** SQLSTATEs a server sends while it shuts down, starts up, or is full. */
const SERVER_CODES = new Set([
  "57P01", // admin_shutdown: our backend was terminated, or the server is stopping
  "57P02", // crash_shutdown: another backend crashed, all are reset
  "57P03", // cannot_connect_now: starting up, shutting down, in recovery
  "53300", // too_many_connections
  "53000", // insufficient_resources
]);

export function isDatabaseUnavailable(e: unknown): boolean {
  if (e === null || typeof e !== "object") return false;
  const code = (e as { code?: unknown }).code;
  if (typeof code !== "string") return false;
  // Class 08: connection exceptions (a connection failure, a protocol violation).
  return code === QUERY_TIMEOUT || CONNECTION_CODES.has(code) || SERVER_CODES.has(code) || code.startsWith("08");
}
