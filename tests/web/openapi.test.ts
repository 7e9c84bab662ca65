// /openapi.json as real clients read it: linted in-process (offline) by
// @redocly/openapi-core, the library behind `redocly lint`, with its
// recommended rules: no error and no warning. The bearer scheme applies to
// every operation but /healthz and /login, and each error status the guards
// and routes really answer (provoked here through the app) is documented on
// the operation, with a body of the documented shape.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createConfig, lintFromString } from "@redocly/openapi-core";
import { insertJob, webFixture, type WebFixture } from "./helpers.ts";

let f: WebFixture;
let doc: any;
beforeAll(async () => {
  // Two free wrong tokens, then a long wait: the 429 is reachable in a test.
  f = await webFixture({ loginThrottle: { freeFailures: 2, baseDelayMs: 60_000 } });
  const r = await f.request("GET", "/openapi.json");
  expect(r.status).toBe(200);
  doc = await r.json();
});
afterAll(async () => { await f.db.drop(); });

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"];
const operations = () =>
  Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
    Object.entries(item).filter(([m]) => METHODS.includes(m)).map(([method, op]) => ({ path, method, op })));

/** A $ref to #/components/... followed; anything else as is. */
const deref = (node: any): any => {
  if (!node?.$ref) return node;
  const parts = String(node.$ref).replace(/^#\//, "").split("/");
  return deref(parts.reduce((n: any, p) => n?.[p], doc));
};

describe("the OpenAPI document", () => {
  test("Redocly's recommended rules find no error and no warning", async () => {
    const config = await createConfig({ extends: ["recommended"] });
    const problems = await lintFromString({ source: JSON.stringify(doc, null, 2), absoluteRef: "/openapi.json", config });
    const report = problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location?.[0]?.pointer ?? "?"}`);
    expect(report).toEqual([]);
  });

  test("the linter is not a rubber stamp: it reports what the old document had", async () => {
    const config = await createConfig({ extends: ["recommended"] });
    const broken = structuredClone(doc);
    delete broken.servers;
    delete broken.info.license;
    delete broken.paths["/api/stats"].get.operationId;
    broken.paths["/api/workers"].get.responses = { 200: broken.paths["/api/workers"].get.responses[200] };
    broken.components.schemas.EnqueueBody.properties.priority.error = "priority: must be an integer";
    const rules = (await lintFromString({ source: JSON.stringify(broken), absoluteRef: "/openapi.json", config })).map((p) => p.ruleId);
    for (const rule of ["no-empty-servers", "info-license", "operation-operationId", "operation-4xx-response", "struct"]) expect(rules).toContain(rule);
  });

  test("request bodies carry none of the validator's own keywords, and integers say so", () => {
    const text = JSON.stringify(doc.components.schemas);
    expect(text).not.toContain('"error":"');
    expect(text).not.toContain('"format":"integer"');
    const body = doc.components.schemas.EnqueueBody.properties;
    expect(body.priority).toEqual({ type: "integer", minimum: -1000, maximum: 1000 });
    expect(body.max_attempts.type).toBe("integer");
    expect(body.delay.anyOf.map((s: any) => s.type)).toEqual(["string", "integer"]);
  });

  test("the bearer token (or the session cookie) applies to every operation but /healthz and /login", () => {
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.security).toEqual([{ bearer: [] }, { session: [] }]);
    const open = operations().filter(({ op }) => Array.isArray(op.security) && op.security.length === 0).map(({ path, method }) => `${method} ${path}`);
    expect(open.sort()).toEqual(["get /healthz", "get /login"]);
    const ids = operations().map(({ op }) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { op } of operations()) if (op.security === undefined) expect(Object.keys(op.responses)).toContain("401");
  });

  test("the servers entry is the dashboard that serves the document", () => {
    expect(doc.servers).toEqual([{ url: "/", description: expect.any(String) }]);
  });
});

describe("each error status a client can get is documented, with its body's shape", () => {
  const body = { prompt: "documented?", cwd: "/tmp" };
  const cases: [string, () => Promise<Response>][] = [
    ["400", () => f.app.handle(new Request("http://localhost/api/jobs", { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${f.token}` }, body: "{nope" }))],
    ["401", () => f.request("POST", "/api/jobs", { json: body, auth: false })],
    ["403", () => f.request("POST", "/api/jobs", { json: body, headers: { authorization: `Bearer ${f.token}`, origin: "https://evil.example" } })],
    ["413", () => f.request("POST", "/api/jobs", { json: { prompt: "x".repeat(1_100_000), cwd: "/tmp" } })],
    ["421", () => f.request("POST", "/api/jobs", { json: body, headers: { authorization: `Bearer ${f.token}`, host: "evil.example:8080" } })],
    ["422", () => f.request("POST", "/api/jobs", { json: { ...body, priority: "5" } })],
  ];

  test.each(cases)("POST /api/jobs answers %s as documented", async (status, send) => {
    const r = await send();
    expect(String(r.status)).toBe(status);
    const documented = deref(doc.paths["/api/jobs"].post.responses[status]);
    expect(documented).toBeDefined();
    const schema = deref(documented.content["application/json"].schema);
    const got = (await r.json()) as Record<string, unknown>;
    for (const k of schema.required) expect(typeof got[k]).toBe("string");
    for (const k of Object.keys(got)) expect(Object.keys(schema.properties)).toContain(k);
    if (status === "401") expect(r.headers.get("www-authenticate")).toContain("Bearer");
  });

  test("429 after too many wrong tokens, with Retry-After, as documented", async () => {
    const wrong = { authorization: "Bearer wrong-token-wrong-token-wrong-token-wrong" };
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await f.request("GET", "/api/stats", { headers: wrong })).status);
    expect(statuses.slice(0, 2)).toEqual([401, 401]);
    expect(statuses.at(-1)).toBe(429);
    const r = await f.request("GET", "/api/stats", { headers: wrong });
    expect(r.status).toBe(429);
    const documented = deref(doc.paths["/api/stats"].get.responses["429"]);
    expect(Object.keys(documented.headers)).toContain("Retry-After");
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(Object.keys(await r.json() as object).sort()).toEqual(["error", "message"]);
  });

  test("404 and 409 on a job's actions", async () => {
    const fresh = await webFixture();
    try {
      const done = await insertJob(fresh.db, { status: "finished" });
      const responses = doc.paths["/api/jobs/{id}/cancel"].post.responses;
      expect((await fresh.request("POST", `/api/jobs/${done}/cancel`)).status).toBe(409);
      expect((await fresh.request("POST", "/api/jobs/0192f1c4-7b1e-7cc0-8d2a-5e1f0a9b3c4d/cancel")).status).toBe(404);
      expect(Object.keys(responses)).toEqual(expect.arrayContaining(["404", "409", "422"]));
    } finally {
      await fresh.db.drop();
    }
  });
});
