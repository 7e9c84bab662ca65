// Request bodies, read with a size limit whatever the transfer encoding (a
// Content-Length can be absent or lie): JSON and form bodies are parsed here,
// so nothing reads an unbounded body into memory. Too large -> 413, not JSON
// or not a form -> 400 (errors.ts maps BodyError).

export class BodyError extends Error {
  readonly status: 400 | 413;
  constructor(status: 400 | 413, message: string) {
    super(message);
    this.name = "BodyError";
    this.status = status;
  }
}

async function readLimited(request: Request, maxBytes: number): Promise<string> {
  if (!request.body) return "";
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
  return new TextDecoder().decode(Buffer.concat(chunks));
}

/** Form fields; a repeated name (checkboxes) becomes an array. */
export function parseForm(text: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(text)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/** Elysia onParse hook: parses JSON, forms and text within `maxBytes`; other types fall through. */
export function limitedParser(maxBytes: number) {
  return async ({ request, contentType }: { request: Request; contentType: string }) => {
    const type = contentType.split(";")[0]!.trim().toLowerCase();
    if (type === "application/json") {
      const text = await readLimited(request, maxBytes);
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new BodyError(400, "body: is not valid JSON");
      }
    }
    if (type === "application/x-www-form-urlencoded") return parseForm(await readLimited(request, maxBytes));
    if (type === "text/plain") return readLimited(request, maxBytes);
    if (type === "multipart/form-data") throw new BodyError(400, "body: multipart forms are not accepted; send JSON or a urlencoded form");
  };
}
