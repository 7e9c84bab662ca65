// Request bodies, read with a size limit whatever the transfer encoding (a
// Content-Length can be absent or lie): JSON and form bodies are parsed here,
// so nothing reads an unbounded body into memory. Text is decoded strictly:
// invalid UTF-8 (raw, or percent-encoded in a form or a query string) is
// refused naming the field, never replaced by U+FFFD. JSON nests at most
// MAX_BODY_DEPTH levels. Too large -> 413, not JSON -> 400, the rest -> 422
// (errors.ts maps BodyError and InputError).

import { InputError } from "../errors.ts";
import { MAX_PAYLOAD_DEPTH, jsonDepthProblem } from "../queue/validate.ts";

export class BodyError extends Error {
  readonly status: 400 | 413 | 422;
  constructor(status: 400 | 413 | 422, message: string) {
    super(message);
    this.name = "BodyError";
    this.status = status;
  }
}

/** A body nests the payload one level down: {"payload": {...}}. */
export const MAX_BODY_DEPTH = MAX_PAYLOAD_DEPTH + 1;

const utf8 = new TextDecoder("utf-8", { fatal: true });

async function readLimited(request: Request, maxBytes: number): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new BodyError(413, `body: at most ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

function decodeUtf8(field: string, bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new InputError(field, "is not valid UTF-8; send text encoded as UTF-8");
  }
}

/** One form or query component: `+` is a space, %XX bytes must make valid UTF-8. */
export function decodeComponent(field: string, raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, " "));
  } catch {
    throw new InputError(field, "is not valid percent-encoded UTF-8");
  }
}

/** `a=1&b=2&b=3` as [name, value] pairs, decoded strictly; `where` names the part for a bad name. */
export function decodePairs(text: string, where: string): [string, string][] {
  const out: [string, string][] = [];
  for (const part of text.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const name = decodeComponent(where, eq < 0 ? part : part.slice(0, eq));
    const value = decodeComponent(name === "" ? where : name, eq < 0 ? "" : part.slice(eq + 1));
    out.push([name, value]);
  }
  return out;
}

/**
 * A query string's parameters are valid UTF-8 and hold no NUL character
 * (PostgreSQL text cannot hold one): an InputError naming the parameter otherwise.
 */
export function checkQueryString(search: string): void {
  const text = search.startsWith("?") ? search.slice(1) : search;
  for (const [name, value] of decodePairs(text, "query")) {
    if (name.includes("\0")) throw new InputError("query", "a parameter name must not contain NUL characters");
    if (value.includes("\0")) throw new InputError(name === "" ? "query" : name, "must not contain NUL characters");
  }
}

/** Form fields; a repeated name (checkboxes) becomes an array. */
export function parseForm(text: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  for (const [k, v] of decodePairs(text, "body")) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return { ...out };
}

const ACCEPTED = "a JSON object sent as Content-Type: application/json, or a urlencoded form";

/** Elysia onParse hook: parses JSON and forms within `maxBytes`; any other non-empty body is refused. */
export function limitedParser(maxBytes: number) {
  return async ({ request, contentType }: { request: Request; contentType: string }) => {
    const type = contentType.split(";")[0]!.trim().toLowerCase();
    if (type === "multipart/form-data") throw new BodyError(400, "body: multipart forms are not accepted; send JSON or a urlencoded form");
    const bytes = await readLimited(request, maxBytes);
    if (type === "application/json") {
      const text = decodeUtf8("body", bytes);
      let value: unknown;
      try {
        value = JSON.parse(text) as unknown;
      } catch {
        throw new BodyError(400, "body: is not valid JSON");
      }
      const deep = jsonDepthProblem(value, MAX_BODY_DEPTH);
      if (deep) throw new InputError(deep.field === "" ? "body" : deep.field, `nests deeper than ${MAX_PAYLOAD_DEPTH} levels`);
      return value;
    }
    if (type === "application/x-www-form-urlencoded") return parseForm(decodeUtf8("body", bytes));
    if (bytes.byteLength === 0) return {};
    throw new BodyError(422, `body: must be ${ACCEPTED}; got ${type ? `Content-Type ${type}` : "no Content-Type"}`);
  };
}
