// Typed errors for claude-jobs. Every error a user can meet has a stable
// `code` (for scripts and tests) and a message that says what to do next.
// The CLI prints `message` on one line and exits non-zero; the HTTP API maps
// InputError to 422 and NotFoundError to 404.

export type ErrorCode =
  | "invalid_input"
  | "not_found"
  | "conflict"
  | "database_unreachable"
  | "schema_too_new"
  | "config";

export class ClaudeJobsError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Bad input: names the field and what is allowed. Changes nothing. */
export class InputError extends ClaudeJobsError {
  readonly field: string;
  constructor(field: string, message: string) {
    super("invalid_input", `${field}: ${message}`);
    this.field = field;
  }
}

export class NotFoundError extends ClaudeJobsError {
  constructor(message: string) {
    super("not_found", message);
  }
}

/** The request is valid but the job's state does not allow it (retry a running job, say). */
export class ConflictError extends ClaudeJobsError {
  constructor(message: string) {
    super("conflict", message);
  }
}

export class DatabaseUnreachableError extends ClaudeJobsError {
  constructor(url: string, cause: unknown) {
    const reason = redactUrl(cause instanceof Error ? cause.message : String(cause));
    super(
      "database_unreachable",
      `cannot connect to PostgreSQL at ${redactUrl(url)}: ${reason}. ` +
        `Check --database-url / DATABASE_URL, or unset both to use the embedded PostgreSQL.`,
      { cause },
    );
  }
}

export class SchemaTooNewError extends ClaudeJobsError {
  constructor(databaseVersion: number, programVersion: number) {
    super(
      "schema_too_new",
      `the database schema is at migration ${databaseVersion}, newer than this program knows ` +
        `(${programVersion}). Upgrade claude-jobs; do not run an older version against this database.`,
    );
  }
}

export class ConfigError extends ClaudeJobsError {
  constructor(message: string) {
    super("config", message);
  }
}

/**
 * Hides every password in a piece of text that may hold database URLs, for
 * every message and log line that can carry one (the CLI runs all its error
 * output through it): the password of a URL's user info
 * (`postgres://user:secret@host/db` -> `postgres://user:***@host/db`), also
 * in a URL that does not parse (a space or an `@` in the password, a bad
 * port), and `password=` parameters (`?password=secret`, `&sslpassword=...`,
 * libpq's `password='a b'`). Errs on the side of hiding: in a URL whose query
 * holds an `@`, everything up to that `@` is taken for user info.
 */
export function redactUrl(text: string): string {
  return redactPasswordParams(redactUserInfo(text));
}

/** `scheme://` where a URL starts. */
const URL_START = /\b[a-z][a-z0-9+.-]*:\/\//gi;
/** Where an unquoted URL ends. */
const UNQUOTED_END = /[\s"'`<>]/;

function redactUserInfo(text: string): string {
  let out = "";
  let done = 0;
  for (const m of text.matchAll(URL_START)) {
    const start = m.index! + m[0].length;
    if (start <= done) continue;
    const lineEnd = text.indexOf("\n", start) < 0 ? text.length : text.indexOf("\n", start);
    // A quoted URL (as JSON.stringify and most messages print one) runs to its
    // closing quote, spaces included; an unquoted one to the first space.
    const quote = text[m.index! - 1];
    const end = quote === '"' || quote === "'" || quote === "`" ? closingQuote(text, start, quote, lineEnd) : unquotedEnd(text, start, lineEnd);
    let candidate = text.slice(start, end);
    let at = candidate.lastIndexOf("@");
    const colon = candidate.indexOf(":");
    // `user:pa ss@host` unquoted: what follows the colon is no port, so the
    // password goes on past the space, to an @ later on the line.
    if (at < 0 && colon >= 0 && !/^\d*(?:[/?#]|$)/.test(candidate.slice(colon + 1))) {
      const later = text.slice(start, lineEnd).indexOf("@", end - start);
      if (later >= 0) {
        candidate = text.slice(start, start + later + 1);
        at = later;
      }
    }
    if (at < 0 || colon < 0 || colon > at || colon === at - 1) continue; // no user info, or a user without a password
    out += text.slice(done, start + colon + 1) + "***";
    done = start + at;
  }
  return out + text.slice(done);
}

/** The closing quote (not one escaped with a backslash) of a quoted URL, or the end of the line. */
function closingQuote(text: string, from: number, quote: string, lineEnd: number): number {
  for (let i = from; i < lineEnd; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === quote) return i;
  }
  return lineEnd;
}

function unquotedEnd(text: string, from: number, lineEnd: number): number {
  const rest = text.slice(from, lineEnd).search(UNQUOTED_END);
  return rest < 0 ? lineEnd : from + rest;
}

/** `password=...` (also sslpassword, PGPASSWORD): up to `&`, `#`, `;`, a space, a quote, or a colon that ends a clause (`...=secret: connect ...`). */
function redactPasswordParams(text: string): string {
  return text.replace(/\b((?:ssl|pg)?password\s*=\s*)('(?:[^'\\\n]|\\.)*'?|"(?:[^"\\\n]|\\.)*"?|(?:[^\s&#;"'`<>:]|:(?!\s|$))+)/gi, "$1***");
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
