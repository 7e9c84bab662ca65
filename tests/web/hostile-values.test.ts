// Values that used to be 500s (PostgreSQL refusing them) or to be stored
// changed (a lone surrogate as U+FFFD, 2026-02-30 as March 2, "5" as 5,
// 1e3 as 1000): each is now a 422 naming the field, and the jobs table is
// exactly as it was.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { insertJob, webFixture, type WebFixture } from "./helpers.ts";

let f: WebFixture;
beforeAll(async () => { f = await webFixture(); });
afterAll(async () => { await f.db.drop(); });

const checksum = async () =>
  (await f.db.sql`SELECT count(*)::int AS n, coalesce(md5(string_agg(t::text, '|' ORDER BY id)), '') AS sum FROM claude_jobs t`)[0]!;

/** Sends the request, expects a 422 (JSON) naming `field`, and that nothing changed. */
async function refused(r: Promise<Response> | (() => Promise<Response>), field: string | RegExp, status = 422) {
  const before = await checksum();
  const response = await (typeof r === "function" ? r() : r);
  const text = await response.text();
  expect({ status: response.status, text }).toMatchObject({ status });
  const body = JSON.parse(text) as { field?: string; message: string };
  if (typeof field === "string") {
    expect(body.field).toBe(field);
    expect(body.message.startsWith(`${field}: `)).toBe(true);
  } else {
    expect(body.field ?? "").toMatch(field);
  }
  expect(await checksum()).toEqual(before);
  return body;
}

const postRaw = (body: string | Uint8Array<ArrayBuffer>, type = "application/json", path = "/api/jobs") =>
  f.app.handle(new Request(`http://localhost${path}`, { method: "POST", headers: { "content-type": type, authorization: `Bearer ${f.token}` }, body }));
const enqueue = (body: unknown) => f.request("POST", "/api/jobs", { json: body });
const mail = (extra: Record<string, unknown>) => ({ kind: "mail", payload: {}, ...extra });

describe("NUL characters", () => {
  test("in a payload value, a payload key, a nested value, a concurrency key: 422 naming where", async () => {
    await refused(enqueue(mail({ payload: { to: "a\u0000b" } })), "payload.to");
    await refused(enqueue(mail({ payload: { "a\u0000b": 1 } })), "payload");
    await refused(enqueue(mail({ payload: { list: [{ x: "\u0000" }] } })), "payload.list[0].x");
    await refused(enqueue(mail({ concurrency_key: "repo\u0000x" })), "concurrency_key");
    await refused(enqueue({ prompt: "hi\u0000", cwd: "/tmp" }), "payload.prompt");
  });

  test("in a list filter or search, or any query parameter: 422 naming it", async () => {
    await refused(f.request("GET", "/api/jobs?q=%00"), "q");
    await refused(f.request("GET", "/jobs?q=a%00b"), "q");
    await refused(f.request("GET", "/api/jobs?status=%00"), "status");
    await refused(f.request("POST", "/api/jobs/bulk", { json: { action: "cancel", filter: { q: "x\u0000" } } }), "q");
  });
});

describe("lone surrogates", () => {
  test("in a payload (value or key), a prompt, a concurrency key, a search: 422, never stored as U+FFFD", async () => {
    await refused(postRaw('{"kind":"mail","payload":{"a":"\\ud800"}}'), "payload.a");
    await refused(postRaw('{"kind":"mail","payload":{"\\udc00":1}}'), "payload");
    await refused(postRaw('{"prompt":"\\ud800","cwd":"/tmp"}'), "payload.prompt");
    await refused(postRaw('{"kind":"mail","payload":{},"concurrency_key":"\\udc00x"}'), "concurrency_key");
    await refused(postRaw('{"action":"cancel","filter":{"q":"\\ud800"}}', "application/json", "/api/jobs/bulk"), "q");
    // A pair is fine: it is one character.
    expect((await postRaw('{"kind":"mail","payload":{"a":"\\ud83d\\ude00"}}')).status).toBe(201);
  });
});

describe("deep nesting", () => {
  test("100,000 levels in a payload is a 422 naming payload, not a stack overflow", async () => {
    const deep = '{"kind":"mail","payload":{"a":' + "[".repeat(100_000) + "]".repeat(100_000) + "}}";
    const body = await refused(postRaw(deep), "payload");
    expect(body.message).toContain("64 levels");
  });

  test("65 levels is refused, 64 is stored", async () => {
    const nest = (levels: number) => JSON.parse("[".repeat(levels - 1) + "]".repeat(levels - 1) || "null");
    // payload {} is one level; {"a": [[...]]} with n arrays is n + 1.
    await refused(enqueue(mail({ payload: { a: nest(65) } })), "payload");
    expect((await enqueue(mail({ payload: { a: nest(64) } }))).status).toBe(201);
    await refused(postRaw("[".repeat(70) + "]".repeat(70)), "body");
  });
});

describe("times", () => {
  test("run_at year 0, 2026-02-30, 24:00, a month 13, a year past 9999: 422 naming run_at, not a 500 or March 2", async () => {
    for (const runAt of ["0000-01-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-02-30", "2025-02-29", "2026-13-01", "2026-01-01T24:00:00Z",
      "2026-01-01T10:60:00Z", "2026-01-01T10:00:00+25:00", "+275760-09-13T00:00:00Z", "1969-12-31T23:59:59Z", "tomorrow"]) {
      await refused(enqueue(mail({ run_at: runAt })), "run_at");
    }
    const leap = await enqueue(mail({ run_at: "2028-02-29T09:00:00Z" }));
    expect(leap.status).toBe(201);
    expect(((await leap.json()) as { runAt: string }).runAt).toBe("2028-02-29T09:00:00.000Z");
  });

  test("a crafted list cursor with an extreme year or a rolled-over date is a 422 naming cursor", async () => {
    const cursor = (time: string) => Buffer.from(`${time}|0192f1c4-7b1e-7cc0-8d2a-5e1f0a9b3c4d`).toString("base64url");
    for (const time of ["+275760-09-13T00:00:00.000Z", "-271821-04-20T00:00:00.000Z", "0000-01-01T00:00:00.000Z", "2026-02-30T00:00:00.000Z", "9999-99-99"]) {
      await refused(f.request("GET", `/api/jobs?cursor=${cursor(time)}`), "cursor");
      await refused(f.request("GET", `/partials/jobs?cursor=${cursor(time)}`), "cursor");
    }
  });
});

describe("numbers", () => {
  test('"priority":"5" and "max_attempts":"3" as strings are 422, not converted', async () => {
    await refused(enqueue({ prompt: "x", cwd: "/tmp", priority: "5" }), "priority");
    await refused(enqueue({ prompt: "x", cwd: "/tmp", max_attempts: "3" }), "max_attempts");
    await refused(enqueue({ prompt: "x", cwd: "/tmp", priority: 1.5 }), "priority");
  });

  test("priority=1e3 or 0x10 in the enqueue form is a 422 naming priority, not 1000 or 16", async () => {
    for (const priority of ["1e3", "0x10", "5.0", "1_0", "Infinity", "٣"]) {
      const before = await checksum();
      const r = await f.request("POST", "/jobs", { form: { prompt: "x", cwd: "/tmp", priority }, headers: { accept: "text/html" } });
      expect(r.status).toBe(422);
      expect(await r.text()).toContain('data-error-field="priority"');
      expect(await checksum()).toEqual(before);
    }
    const ok = await f.request("POST", "/jobs", { form: { prompt: "x", cwd: "/tmp", priority: "-5" } });
    expect(ok.status).toBe(303);
  });

  test("a list limit of 1e2 or 0x10 is a 422 naming limit", async () => {
    for (const limit of ["1e2", "0x10", "10.0"]) await refused(f.request("GET", `/api/jobs?limit=${limit}`), "limit");
  });

  test("a payload timeout past what a timer holds, and max_turns 1e308, are 422 naming them", async () => {
    await refused(enqueue({ prompt: "x", cwd: "/tmp", payload: { timeout: "99999d" } }), "payload.timeout");
    await refused(enqueue({ prompt: "x", cwd: "/tmp", payload: { timeout: "25d" } }), "payload.timeout");
    await refused(enqueue({ prompt: "x", cwd: "/tmp", payload: { max_turns: 1e308 } }), "payload.max_turns");
    expect((await enqueue({ prompt: "x", cwd: "/tmp", payload: { timeout: "24d", max_turns: 500 } })).status).toBe(201);
  });
});

describe("bodies", () => {
  test("a text/plain body says what is accepted, naming body", async () => {
    const body = await refused(postRaw("prompt=hello", "text/plain"), "body");
    expect(body.message).toContain("application/json");
    expect(body.message).toContain("text/plain");
    await refused(postRaw("<job/>", "application/xml"), "body");
  });

  test("invalid UTF-8 is refused, not replaced: raw in JSON, percent-encoded in a form or a query", async () => {
    const json = new Uint8Array([...Buffer.from('{"prompt":"'), 0xff, 0xfe, ...Buffer.from('","cwd":"/tmp"}')]);
    await refused(postRaw(json), "body");
    const before = await checksum();
    const form = await postRaw("prompt=%FF%FE&cwd=/tmp", "application/x-www-form-urlencoded", "/jobs");
    expect(form.status).toBe(422);
    expect(((await form.json()) as { field: string }).field).toBe("prompt");
    expect(await checksum()).toEqual(before);
    await refused(f.request("GET", "/api/jobs?q=%FF"), "q");
    await refused(f.request("GET", "/jobs?q=%C3%28"), "q");
    await refused(f.request("GET", "/api/jobs?%FF=1"), "query");
  });
});

describe("bulk actions", () => {
  test("a bad filter next to a selection is refused before the selection changes (the fuzz test found this)", async () => {
    const id = await insertJob(f.db);
    const before = await checksum();
    const r = await f.request("POST", "/jobs/bulk", { form: { action: "cancel-selected", ids: id, status: "2026-02-30" } });
    expect(r.status).toBe(422);
    expect(await checksum()).toEqual(before);
    await refused(f.request("POST", "/api/jobs/bulk", { json: { action: "cancel", ids: [id], filter: { status: "nope" } } }), "status");
  });

  test("an object whose toString is not a function, where a string belongs, is a 422 naming it (Elysia's own message would throw)", async () => {
    await refused(enqueue({ prompt: { toString: "x" }, cwd: "/tmp", unknown: true }), /^(prompt|unknown)$/);
    await refused(enqueue({ prompt: "x", cwd: "/tmp", queue: { toString: "" } }), "queue");
    await refused(f.request("POST", "/api/jobs/bulk", { json: { action: "cancel", ids: { toString: 1 } } }), "ids");
    await refused(f.request("POST", "/api/jobs/bulk", { json: { action: "cancel", filter: { kind: { toString: 1 } } } }), "filter.kind");
  });
});

test("/assets/__proto__ and other names from Object's prototype are 404", async () => {
  for (const name of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
    const r = await f.request("GET", `/assets/${name}`, { auth: false });
    expect(r.status).toBe(404);
  }
});
