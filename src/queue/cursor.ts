// Keyset pagination of job lists, one way for Queue.list, the dashboard and
// the API: a cursor is the last job's sort key and id (base64url of
// "ISO time|uuid"), and a page is read one row longer than it is, so that a
// next cursor is given only when another job follows.

import { InputError } from "../errors.ts";
import type { JobRecord } from "../handlers/types.ts";
import { parseCursorTime, validateId } from "./validate.ts";

export function encodeCursor(key: Date, id: string): string {
  return Buffer.from(`${key.toISOString()}|${id}`).toString("base64url");
}

/** A cursor this program wrote, or InputError("cursor", "must be <what>"). */
export function decodeCursor(cursor: unknown, what: string): { key: Date; id: string } {
  const bad = () => new InputError("cursor", `must be ${what}`);
  if (typeof cursor !== "string" || cursor.length > 200) throw bad();
  const [time, id, extra] = Buffer.from(cursor, "base64url").toString().split("|");
  if (!id || extra !== undefined) throw bad();
  try {
    // Only times this program writes, within what PostgreSQL holds: a crafted
    // "+275760-09-13T00:00:00.000Z" or year 0 is refused, not a database error.
    return { key: parseCursorTime("cursor", time ?? ""), id: validateId("cursor", id) };
  } catch {
    throw bad();
  }
}

/** The page out of `limit + 1` rows read, and the cursor to the next page only when there is one. */
export function pageOf(fetched: JobRecord[], limit: number, cursorOf: (last: JobRecord) => string): { jobs: JobRecord[]; next: string | null } {
  const jobs = fetched.slice(0, limit);
  const last = jobs.at(-1);
  return { jobs, next: fetched.length > limit && last ? cursorOf(last) : null };
}
