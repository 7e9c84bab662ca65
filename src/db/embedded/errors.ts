// Errors of the embedded PostgreSQL. Each message is one line that says what
// went wrong and what the user can do next; `cause` keeps the details.
import { ClaudeJobsError } from "../../errors.ts";

export class EmbeddedPostgresError extends ClaudeJobsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("database_unreachable", `embedded PostgreSQL: ${message}`, options);
  }
}

/** Wraps a file-system failure on `path` into a message naming the folder and the fix. */
export function folderError(what: string, path: string, cause: unknown): EmbeddedPostgresError {
  const code = (cause as NodeJS.ErrnoException)?.code ?? "error";
  return new EmbeddedPostgresError(
    `cannot ${what} ${path} (${code}): fix its permissions or free space, ` +
      `or choose another data folder with XDG_DATA_HOME, or set DATABASE_URL to use your own PostgreSQL`,
    { cause },
  );
}
