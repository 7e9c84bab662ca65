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
    const reason = cause instanceof Error ? cause.message : String(cause);
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

/** postgres://user:secret@host/db -> postgres://user:***@host/db, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, "$1***@");
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
