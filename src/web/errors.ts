// Turns errors into responses: the engine's InputError -> 422, NotFoundError
// -> 404, ConflictError -> 409, Elysia's body/query validation -> 422 naming
// the field, a malformed body -> 400. Programs (/api/*) get JSON, people get
// a page; anything unexpected is a 500 that shows no internals.

import { ClaudeJobsError, InputError } from "../errors.ts";
import { MessagePage } from "./views/layout.tsx";
import { isApiPath, safePath } from "./security.ts";
import { BodyError } from "./body.ts";

export interface ErrorBody {
  error: string;
  message: string;
  field?: string;
}

interface ElysiaValidation {
  customError?: unknown;
  /** The first failure, as TypeBox reports it (no value in its message). */
  valueError?: { path?: string; message?: string; type?: number };
}

export function describeError(code: unknown, error: unknown): { status: number; body: ErrorBody } {
  // Elysia wraps what a parser throws in a ParseError; the BodyError or InputError is its cause.
  const cause = (error as Error | undefined)?.cause;
  if (code === "PARSE" && (cause instanceof BodyError || cause instanceof InputError)) error = cause;
  if (error instanceof InputError) return { status: 422, body: { error: error.code, field: error.field, message: error.message } };
  if (error instanceof ClaudeJobsError) {
    const status = error.code === "not_found" ? 404 : error.code === "conflict" ? 409 : error.code === "database_unreachable" ? 503 : 500;
    return { status, body: { error: error.code, message: error.message } };
  }
  if (error instanceof BodyError) {
    return { status: error.status, body: { error: error.status === 413 ? "too_large" : "invalid_input", field: "body", message: error.message } };
  }
  if (code === "VALIDATION") {
    // valueError, not `all`: Elysia's summaries interpolate the value, which throws for some objects.
    const first = (error as ElysiaValidation).valueError;
    const field = (first?.path ?? "").split("/").filter(Boolean)
      .reduce((out, part) => (/^\d+$/.test(part) ? `${out}[${part}]` : out ? `${out}.${part}` : part), "") || "body";
    const custom = (error as ElysiaValidation).customError;
    // A schema's own message says "<name>: ..."; the field is the exact place (ids[3]).
    const own = typeof custom === "string" ? custom.replace(/^[\w.]+: /, "") : null;
    // TypeBox's codes, as Elysia's own mapValueError reads them: 42 a field
    // that is not in the schema, 45 a required field that is missing.
    const what = first?.type === 42 ? `is not a known field${own ? `; ${own.replace(/^must be/, "send")}` : ""}`
      : first?.type === 45 ? "is required"
      : own ?? (first?.message ?? "is not valid").replace(/^Expected/, "must be");
    return { status: 422, body: { error: "invalid_input", field, message: `${field}: ${what}` } };
  }
  if (code === "PARSE") return { status: 400, body: { error: "invalid_input", field: "body", message: "body: is not valid JSON or form data" } };
  if (code === "NOT_FOUND") return { status: 404, body: { error: "not_found", message: "no such page" } };
  if (code === "INVALID_COOKIE_SIGNATURE") return { status: 400, body: { error: "invalid_input", message: "bad cookie" } };
  return { status: 500, body: { error: "internal", message: "internal error; the server log has the details" } };
}

const TITLES: Record<number, string> = { 400: "Bad request", 413: "Too large", 404: "Not found", 409: "Not possible now", 422: "Invalid input", 429: "Too many attempts", 500: "Something went wrong", 503: "Database unreachable" };

/** The error's response: JSON for programs, a page for people, plain text for htmx. Never throws. */
export function errorResponse(request: Request, code: unknown, error: unknown, signedIn: boolean): Response {
  const { status, body } = describeError(code, error);
  const path = safePath(request);
  const accept = request.headers.get("accept") ?? "";
  const headers: Record<string, string> = {};
  if (isApiPath(path) || (!accept.includes("text/html") && !request.headers.get("hx-request"))) {
    return Response.json(body, { status, headers });
  }
  if (request.headers.get("hx-request")) {
    return new Response(body.message, { status, headers: { ...headers, "content-type": "text/plain; charset=utf-8" } });
  }
  const html = "<!doctype html>" + (MessagePage({ title: TITLES[status] ?? "Error", message: body.message, status, signedIn }) as string);
  return new Response(html, { status, headers: { ...headers, "content-type": "text/html; charset=utf-8" } });
}
