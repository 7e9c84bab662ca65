// Property-based: random and hostile values (NUL, lone surrogates, deep
// nesting, extreme numbers and dates, prototype names, invalid
// percent-encoding, random content types and bytes) thrown at every API
// endpoint over real HTTP, in JSON bodies, forms, query strings and path
// ids. Whatever is sent: never a 5xx; a 4xx names the field it refuses
// (`field`, and a message starting "<field>: "), or for a well-formed id
// says there is no such job (404) or that its state does not allow it (409);
// a refused request leaves the jobs table exactly as it was (row count and
// an md5 of every row); the server answers afterwards.
//
// FC_SEED=<n> replays a run (the seed is in the failure message), FC_RUNS=<n>
// changes the number of runs per endpoint (default 200).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { createApp, DEFAULT_MAX_BODY_BYTES } from "../../src/web/app.tsx";
import { serveApp, type ServedApp } from "../../src/web/server.ts";
import { Queue } from "../../src/queue/client.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { insertJob, TEST_TOKEN } from "./helpers.ts";

const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Math.floor(Math.random() * 2 ** 31);
const RUNS = Number(process.env.FC_RUNS ?? 200);

let db: TestDatabase;
let served: ServedApp;
let ids: string[] = [];
const unexpected: unknown[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  // The slow-down is tested in server.test.ts; here a random /login?token= must not lock the bearer out.
  const app = createApp({ queue: new Queue(db.sql), sql: db.sql, token: TEST_TOKEN, onError: (e) => unexpected.push(e), loginThrottle: { freeFailures: 1e9 } });
  served = serveApp(app, { hostname: "127.0.0.1", port: 0, maxRequestBodySize: DEFAULT_MAX_BODY_BYTES, onError: (e) => unexpected.push(e) });
  for (const status of ["queued", "running", "finished", "failed", "cancelled"] as const) {
    ids.push(await insertJob(db, { status }), await insertJob(db, { status, kind: "mail", payload: { to: "x" } }));
  }
});
afterAll(async () => {
  console.log(`fuzz: seed ${SEED}; answers by status: ${JSON.stringify(Object.fromEntries([...seen].sort()))}`);
  await served?.stop();
  await db?.drop();
});

const checksum = async () =>
  (await db.sql`SELECT count(*)::int AS n, coalesce(md5(string_agg(t::text, '|' ORDER BY id)), '') AS sum FROM claude_jobs t`)[0]!;

// ---- values -------------------------------------------------------------

const nested = (levels: number): unknown => {
  let v: unknown = "bottom";
  for (let i = 0; i < levels; i++) v = i % 2 ? { k: v } : [v];
  return v;
};

const nastyText = fc.constantFrom(
  "", " ", "\u0000", "a\u0000b", "\ud800", "\udc00x", "x\udbff", "\ud83d\ude00", "\u202e\u200b", "\r\n", "'; DROP TABLE claude_jobs; --",
  "<script>alert(1)</script>", "../../etc/passwd", "%00", "%FF", "__proto__", "constructor", "toString", "hasOwnProperty", "1e3",
  "0x10", "Infinity", "NaN", "-0", "5", "9".repeat(400), "x".repeat(5000), "2026-02-30", "0000-01-01T00:00:00Z",
  "+275760-09-13T00:00:00.000Z", "2026-01-01T24:00:00Z", "2030-01-01T00:00:00Z", "99999d", "24d", "25d", "1ms", "0s", "10m",
  "default", "mail", "claude", "queued", "scheduled", "failed", "newest", "/tmp", "/nonexistent", "null", "true", "[]", "{}",
);
const text = fc.oneof({ weight: 3, arbitrary: nastyText }, fc.string({ unit: "binary", maxLength: 40 }), fc.string({ maxLength: 20 }));
const number = fc.oneof(
  fc.constantFrom(0, -0, 1, -1, 3, 1000, 1001, -1000, -1001, 1e308, -1e308, 5e-324, 2 ** 31, 2 ** 53, 2 ** 53 + 2, 1.5, 86_400_000 * 400),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const deep = fc.integer({ min: 1, max: 140 }).map(nested);
const value: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: text }, { weight: 3, arbitrary: number }, fc.boolean(), fc.constant(null),
  fc.jsonValue({ maxDepth: 3 }), deep, fc.array(text, { maxLength: 3 }), fc.dictionary(text, text, { maxKeys: 3 }),
);
const payload = fc.oneof(
  fc.dictionary(fc.oneof(nastyText, fc.constantFrom("prompt", "cwd", "timeout", "max_turns", "resume", "model", "exclusive")), value, { maxKeys: 4 }),
  fc.record({ prompt: fc.oneof(fc.constant("hello"), text), cwd: fc.oneof(fc.constant("/tmp"), text) }, { requiredKeys: [] }),
  value,
);
const maybe = <T>(good: fc.Arbitrary<T>) => fc.oneof({ weight: 5, arbitrary: good }, { weight: 1, arbitrary: value });

const enqueueBody = fc.tuple(fc.record({
  prompt: maybe(fc.constantFrom("hello", "- a list item")),
  cwd: maybe(fc.constant("/tmp")),
  model: maybe(fc.constant("sonnet")),
  kind: maybe(fc.constantFrom("claude", "mail", "note")),
  queue: maybe(fc.constantFrom("default", "high", "q.1")),
  priority: maybe(fc.integer({ min: -1000, max: 1000 })),
  max_attempts: maybe(fc.integer({ min: 1, max: 1000 })),
  delay: maybe(fc.constantFrom("10m", 1000, "1h")),
  run_at: maybe(fc.constantFrom("2030-01-01T00:00:00Z", "2028-02-29")),
  concurrency_key: maybe(fc.constantFrom("repo", null)),
  payload: maybe(payload),
}, { requiredKeys: [] }), fc.option(fc.dictionary(text, value, { maxKeys: 2 }), { freq: 4 }))
  .map(([known, extra]) => ({ ...(extra ?? {}), ...known }));

/** Bodies the schema lets through, so that the hostile values reach the queue's own checks and PostgreSQL. */
const schemaValidBody = fc.oneof(
  fc.record({
    kind: fc.constantFrom("mail", "note"),
    payload: fc.dictionary(text, value, { maxKeys: 4 }),
    run_at: fc.oneof(text, fc.date({ noInvalidDate: true }).map((d) => d.toISOString())),
    concurrency_key: text.filter((t) => t.length > 0 && t.length <= 1000),
    delay: fc.oneof(text.filter((t) => t.length > 0 && t.length <= 32), fc.nat()),
  }, { requiredKeys: ["kind", "payload"] }),
  fc.record({
    prompt: text.filter((t) => t.length > 0),
    cwd: fc.constantFrom("/tmp", "/", "."),
    payload: fc.record({ timeout: text, max_turns: number, max_budget_usd: number, resume: text, model: text, allowed_tools: fc.array(text, { maxLength: 2 }) }, { requiredKeys: [] }),
  }),
);

const id = fc.oneof(fc.uuid(), fc.constantFrom(...Array.from({ length: 10 }, (_, i) => i)).map((i) => ids[i]!), text);
const pathId = fc.tuple(id, fc.boolean()).map(([v, raw]) => (raw ? String(v).replace(/[/?#]/g, "") : enc(String(v))));

/** A query string whose values may be hostile, or not even valid percent-encoding. */
/** A URL cannot carry a lone surrogate (it would go as U+FFFD): encode what it can carry. */
const enc = (v: string) => encodeURIComponent(v.toWellFormed());

const queryString = fc.array(
  fc.tuple(
    fc.oneof(fc.constantFrom("status", "queue", "kind", "q", "sort", "cursor", "limit", "done", "n", "next", "token"), text),
    fc.oneof(text, fc.constantFrom("failed", "default", "oldest", "10", "0", "501", "1e2"), number.map(String),
      fc.string().map((s) => Buffer.from(`${s}|0192f1c4-7b1e-7cc0-8d2a-5e1f0a9b3c4d`).toString("base64url"))),
    fc.option(fc.constantFrom("%FF", "%00", "%C3%28", "%", "%%", "%E0%A4%A", "+", "%ED%A0%80"), { freq: 4 }),
  ),
  { maxLength: 4 },
).map((pairs) => pairs.map(([k, v, bad]) => `${enc(k)}=${bad ?? enc(v)}`).join("&"));

// ---- requests and the property ----------------------------------------------

interface Req { method: string; path: string; body?: BodyInit; type?: string }

async function send(r: Req): Promise<{ status: number; type: string; text: string }> {
  const headers: Record<string, string> = { authorization: `Bearer ${TEST_TOKEN}` };
  if (r.type) headers["content-type"] = r.type;
  const res = await fetch(served.url + r.path, { method: r.method, headers, body: r.body, redirect: "manual" });
  return { status: res.status, type: res.headers.get("content-type") ?? "", text: await res.text() };
}

/** Answers seen, by status: the report at the end shows the runs did reach the checks. */
const seen = new Map<number, number>();

/** What every answer must be; throws (failing the property) otherwise. */
async function judge(r: Req): Promise<void> {
  const before = await checksum();
  const res = await send(r);
  seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
  const where = `${r.method} ${r.path} ${typeof r.body === "string" ? r.body.slice(0, 300) : ""} -> ${res.status} ${res.text.slice(0, 300)}`;
  if (res.status >= 500 || res.status < 200) throw new Error(`server error: ${where}`);
  if (res.status < 400) return;
  const after = await checksum();
  if (after.n !== before.n || after.sum !== before.sum) throw new Error(`a refused request changed the jobs table: ${where}`);
  if (res.type.includes("text/html")) {
    // the enqueue form re-rendered: it names the field it refuses
    if (res.status === 422 && !/data-error-field="[^"]+"/.test(res.text)) throw new Error(`a 422 page names no field: ${where}`);
    return;
  }
  const body = JSON.parse(res.text) as { error?: string; field?: string; message?: string };
  if (typeof body.message !== "string" || body.message === "") throw new Error(`no message: ${where}`);
  if ([400, 413, 422].includes(res.status)) {
    if (typeof body.field !== "string" || body.field === "" || !body.message.startsWith(`${body.field}: `)) {
      throw new Error(`a ${res.status} that does not name its field: ${where}`);
    }
  } else if (![401, 403, 404, 409].includes(res.status)) {
    throw new Error(`unexpected status: ${where}`);
  } else if (res.status === 401 || res.status === 403) {
    throw new Error(`the token or origin was refused although it was right: ${where}`);
  }
}

async function check(name: string, arb: fc.Arbitrary<Req>) {
  unexpected.length = 0;
  try {
    await fc.assert(fc.asyncProperty(arb, judge), { numRuns: RUNS, seed: SEED, endOnFailure: true });
  } catch (e: unknown) {
    throw new Error(`${name}: ${(e as Error).message}\n(replay with FC_SEED=${SEED})`, { cause: e });
  }
  expect((await fetch(`${served.url}/healthz`)).status).toBe(200);
  expect(unexpected).toEqual([]);
}

const json = (method: string, path: string) => (v: unknown): Req => ({ method, path, body: JSON.stringify(v), type: "application/json" });
const form = (method: string, path: string) => (pairs: [string, string][]): Req => ({
  method, path, body: new URLSearchParams(pairs).toString(), type: "application/x-www-form-urlencoded",
});

describe(`hostile input at every endpoint (seed ${SEED}, ${RUNS} runs each)`, () => {
  test("POST /api/jobs: JSON bodies", () => check("POST /api/jobs", fc.oneof(enqueueBody, schemaValidBody, schemaValidBody, value).map(json("POST", "/api/jobs"))), 120_000);

  test("POST /api/jobs: raw bodies of any content type and bytes", () => check("POST /api/jobs raw", fc.record({
    type: fc.constantFrom("application/json", "text/plain", "application/x-www-form-urlencoded", "application/xml", "application/json; charset=utf-8", "multipart/form-data; boundary=x", "", "application/octet-stream"),
    body: fc.oneof(fc.uint8Array({ maxLength: 64 }), text, fc.jsonValue().map((v) => JSON.stringify(v))),
  }).map(({ type, body }): Req => ({ method: "POST", path: "/api/jobs", type: type || undefined, body: body as BodyInit }))), 120_000);

  test("POST /api/jobs/bulk", () => check("POST /api/jobs/bulk", fc.record({
    action: maybe(fc.constantFrom("retry", "cancel")),
    ids: maybe(fc.array(id.map(String), { maxLength: 4 })),
    filter: maybe(fc.record({ status: maybe(fc.constantFrom("failed", "queued")), queue: value, kind: value, q: value }, { requiredKeys: [] })),
  }, { requiredKeys: [] }).map(json("POST", "/api/jobs/bulk"))), 120_000);

  test("GET /api/jobs: query strings", () => check("GET /api/jobs", queryString.map((q): Req => ({ method: "GET", path: `/api/jobs?${q}` }))), 120_000);

  test("GET /api/stats, /api/workers, /api/throughput, /metrics, /openapi.json: query strings", () => check("GET others", fc.tuple(
    fc.constantFrom("/api/stats", "/api/workers", "/api/throughput", "/metrics", "/openapi.json", "/healthz"), queryString,
  ).map(([path, q]): Req => ({ method: "GET", path: `${path}?${q}` }))), 120_000);

  test("GET and DELETE /api/jobs/:id, POST /api/jobs/:id/{retry,cancel,run-now}, GET /api/jobs/:id/logs: path ids", () => check("id routes", fc.tuple(
    fc.constantFrom("GET ", "DELETE ", "POST /retry", "POST /cancel", "POST /run-now", "GET /logs"), pathId,
  ).map(([route, p]): Req => {
    const [method, suffix] = route.split(" ") as [string, string];
    return { method, path: `/api/jobs/${p}${suffix}` };
  })), 120_000);

  test("the dashboard's forms: POST /jobs, /jobs/bulk, /jobs/:id/:action", () => check("forms", fc.oneof(
    fc.array(fc.tuple(fc.oneof(fc.constantFrom("prompt", "cwd", "queue", "priority", "delay", "max_attempts", "model"), text), fc.oneof(text, number.map(String))), { maxLength: 6 })
      .map(form("POST", "/jobs")),
    fc.array(fc.tuple(fc.constantFrom("action", "ids", "status", "queue", "kind", "q"), fc.oneof(text, fc.constantFrom("cancel-selected", "retry-matching"), id.map(String))), { maxLength: 5 })
      .map(form("POST", "/jobs/bulk")),
    fc.tuple(pathId, fc.oneof(fc.constantFrom("retry", "cancel", "run-now", "delete"), text.map(enc)))
      .map(([p, action]): Req => ({ method: "POST", path: `/jobs/${p}/${action}` })),
  )), 120_000);

  test("the pages and partials: query strings and path ids", () => check("pages", fc.oneof(
    fc.tuple(fc.constantFrom("/jobs", "/partials/jobs", "/", "/workers", "/partials/overview", "/jobs/new", "/login"), queryString)
      .map(([path, q]): Req => ({ method: "GET", path: `${path}?${q}` })),
    fc.tuple(fc.constantFrom("/jobs/", "/partials/jobs/"), pathId).map(([base, p]): Req => ({ method: "GET", path: base + p })),
  )), 120_000);
});
