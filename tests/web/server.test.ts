// The dashboard over real sockets (serveApp, as the CLI serves it): a
// malformed Host header (`[::1]x`, empty, `a b`, missing) is a plain 400
// with the security headers, never Bun's development error page (stack
// frames, source lines, the working directory); an app that throws gets a
// plain 500. Also what needs the peer address: a local user without the
// token cannot enqueue over 127.0.0.1, the slow-down on wrong tokens per
// client address, and the Secure cookie and forwarded host behind a trusted
// proxy (X-Forwarded-Proto / -Host / -For believed only from it).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { createApp, DEFAULT_MAX_BODY_BYTES, type AppDeps } from "../../src/web/app.tsx";
import { serveApp, type ServedApp } from "../../src/web/server.ts";
import { startDashboard } from "../../src/cli/commands/dashboard.ts";
import { Queue } from "../../src/queue/client.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { TEST_TOKEN } from "./helpers.ts";

let db: TestDatabase;
const servers: { stop(): Promise<void> }[] = [];
beforeAll(async () => { db = await createTestDatabase(); });
afterAll(async () => {
  for (const s of servers) await s.stop();
  await db.drop();
});

function serve(deps: Partial<AppDeps> = {}): ServedApp {
  const app = createApp({ queue: new Queue(db.sql), sql: db.sql, token: TEST_TOKEN, onError: () => {}, ...deps });
  const served = serveApp(app, { hostname: "127.0.0.1", port: 0, maxRequestBodySize: DEFAULT_MAX_BODY_BYTES, onError: () => {} });
  servers.push(served);
  return served;
}

interface RawResponse { status: number; headers: Record<string, string>; body: string; size: number }

/** Sends `text` as is over TCP (fetch would refuse these Host headers) and reads the whole answer. */
function raw(port: number, text: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(text));
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", reject);
    socket.on("end", () => {
      const all = Buffer.concat(chunks).toString("latin1");
      const [head = "", ...rest] = all.split("\r\n\r\n");
      const [statusLine = "", ...lines] = head.split("\r\n");
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
      resolve({ status: Number(statusLine.split(" ")[1]), headers, body: rest.join("\r\n\r\n"), size: all.length });
    });
    setTimeout(() => socket.destroy(new Error("no answer within 5 s")), 5000);
  });
}

const portOf = (url: string) => Number(new URL(url).port);
const MALFORMED = [
  ["[::1]x", "Host: [::1]x\r\n"],
  ["empty", "Host: \r\n"],
  ["a b", "Host: a b\r\n"],
  ["two Host headers", "Host: localhost\r\nHost: evil.example\r\n"],
] as const;

function expectPlain400(r: RawResponse) {
  expect(r.status).toBe(400);
  expect(r.size).toBeLessThan(2000);
  expect(r.headers["content-type"]).toContain("text/plain");
  expect(r.headers["content-security-policy"]).toContain("default-src 'self'");
  expect(r.headers["x-content-type-options"]).toBe("nosniff");
  expect(r.body).not.toMatch(/<html|stack|at \/|\/work|node_modules|Invalid URL/i);
}

describe("a malformed Host header", () => {
  for (const [name, host] of MALFORMED) {
    test(`${name}: a plain 400 with the security headers, for pages, the API and mutations alike`, async () => {
      const { url } = serve();
      for (const line of ["GET /api/stats HTTP/1.1", "GET / HTTP/1.1", "GET /healthz HTTP/1.1", `POST /api/jobs HTTP/1.1`]) {
        const body = line.startsWith("POST") ? '{"prompt":"whoami","cwd":"/tmp"}' : "";
        const extra = body ? `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nAuthorization: Bearer ${TEST_TOKEN}\r\n` : "";
        expectPlain400(await raw(portOf(url), `${line}\r\n${host}${extra}Connection: close\r\n\r\n${body}`));
      }
      expect((await db.sql`SELECT count(*)::int AS n FROM claude_jobs`)[0]!.n).toBe(0);
    });
  }

  test("no Host at all (HTTP/1.0): a plain 400", async () => {
    const { url } = serve();
    expectPlain400(await raw(portOf(url), "GET /api/stats HTTP/1.0\r\n\r\n"));
  });

  test("the CLI's dashboard (startDashboard) answers them the same way, with or without its own token", async () => {
    for (const token of [undefined, "cli-token-0123456789-0123456789-0123456789"]) {
      const d = startDashboard(db.sql, { host: "127.0.0.1", port: 0, token, logDir: "/nonexistent" });
      servers.push(d);
      for (const [, host] of MALFORMED) expectPlain400(await raw(portOf(d.url), `GET /api/stats HTTP/1.1\r\n${host}Connection: close\r\n\r\n`));
    }
  });

  test("a well-formed request still works over the same server", async () => {
    const { url } = serve();
    const r = await raw(portOf(url), `GET /api/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TEST_TOKEN}\r\nConnection: close\r\n\r\n`);
    expect(r.status).toBe(200);
    expect(r.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
  });

  test("an app that throws is a plain 500 with the security headers, no internals", async () => {
    const served = serveApp({ handle: () => { throw new Error("secret internals at /work/main/src/x.ts:1"); } },
      { hostname: "127.0.0.1", port: 0, maxRequestBodySize: 1024, onError: () => {} });
    servers.push(served);
    const r = await raw(portOf(served.url), "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    expect(r.status).toBe(500);
    expect(r.body).not.toContain("secret internals");
    expect(r.headers["content-security-policy"]).toContain("default-src 'self'");
  });
});

describe("over 127.0.0.1 without the token", () => {
  test("the CLI's dashboard as it starts on loopback with no token configured: `curl -XPOST /api/jobs` from a local user is a 401", async () => {
    const d = startDashboard(db.sql, { host: "127.0.0.1", port: 0, token: undefined, logDir: "/nonexistent" });
    servers.push(d);
    const before = (await db.sql`SELECT count(*)::int AS n FROM claude_jobs`)[0]!.n;
    const post = await fetch(`${d.url}/api/jobs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ prompt: "whoami", cwd: "/tmp" }) });
    expect(post.status).toBe(401);
    expect((await fetch(`${d.url}/api/jobs`)).status).toBe(401);
    expect((await db.sql`SELECT count(*)::int AS n FROM claude_jobs`)[0]!.n).toBe(before);
  });

  test("a local user can neither enqueue nor read: 401, and nothing is written", async () => {
    const { url } = serve();
    const before = (await db.sql`SELECT count(*)::int AS n FROM claude_jobs`)[0]!.n;
    const post = await fetch(`${url}/api/jobs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ prompt: "whoami", cwd: "/tmp" }) });
    expect(post.status).toBe(401);
    const form = await fetch(`${url}/jobs`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "prompt=whoami&cwd=/tmp", redirect: "manual" });
    expect(form.status).toBe(401);
    expect((await fetch(`${url}/api/jobs`)).status).toBe(401);
    expect((await fetch(`${url}/api/stats`)).status).toBe(401);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await db.sql`SELECT count(*)::int AS n FROM claude_jobs`)[0]!.n).toBe(before);
    const ok = await fetch(`${url}/api/jobs`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${TEST_TOKEN}` }, body: JSON.stringify({ prompt: "hello", cwd: "/tmp" }) });
    expect(ok.status).toBe(201);
  });
});

describe("the slow-down on wrong tokens", () => {
  const login = (url: string, token: string, headers: Record<string, string> = {}) =>
    fetch(`${url}/login`, { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded", ...headers }, body: new URLSearchParams({ token }).toString() });

  test("after the free failures an address waits, doubling; even the right token is a 429 meanwhile; then it is let in", async () => {
    const { url } = serve({ loginThrottle: { freeFailures: 2, baseDelayMs: 600, maxDelayMs: 5000 } });
    expect((await login(url, "wrong-1")).status).toBe(401);
    expect((await login(url, "wrong-2")).status).toBe(401);
    expect((await login(url, "wrong-3")).status).toBe(401); // the third locks the address out
    const locked = await login(url, TEST_TOKEN);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await locked.text()).toContain("Too many wrong tokens");
    const bearer = await fetch(`${url}/api/stats`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
    expect(bearer.status).toBe(429);
    await Bun.sleep(700);
    const ok = await login(url, TEST_TOKEN);
    expect(ok.status).toBe(303);
    expect(ok.headers.get("set-cookie")).toContain("cj_session=");
    // The count starts again after a success.
    expect((await login(url, "wrong-4")).status).toBe(401);
  });

  test("wrong bearer tokens count too", async () => {
    const { url } = serve({ loginThrottle: { freeFailures: 1, baseDelayMs: 10_000 } });
    const wrong = () => fetch(`${url}/api/stats`, { headers: { authorization: "Bearer wrong" } });
    expect((await wrong()).status).toBe(401);
    expect((await wrong()).status).toBe(401);
    expect((await wrong()).status).toBe(429);
    expect((await fetch(`${url}/api/stats`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } })).status).toBe(429);
  });

  test("behind a trusted proxy, each client address (X-Forwarded-For) has its own count; an untrusted peer's header is ignored", async () => {
    const { url } = serve({ trustProxy: ["127.0.0.1"], loginThrottle: { freeFailures: 1, baseDelayMs: 10_000 } });
    const a = { "x-forwarded-for": "203.0.113.7" };
    expect((await login(url, "wrong", a)).status).toBe(401);
    expect((await login(url, "wrong", a)).status).toBe(401);
    expect((await login(url, TEST_TOKEN, a)).status).toBe(429);
    expect((await login(url, TEST_TOKEN, { "x-forwarded-for": "198.51.100.9" })).status).toBe(303);
    const untrusted = serve({ loginThrottle: { freeFailures: 1, baseDelayMs: 10_000 } });
    await login(untrusted.url, "wrong", { "x-forwarded-for": "203.0.113.1" });
    await login(untrusted.url, "wrong", { "x-forwarded-for": "203.0.113.2" });
    expect((await login(untrusted.url, TEST_TOKEN, { "x-forwarded-for": "203.0.113.3" })).status).toBe(429);
  });
});

describe("behind a reverse proxy", () => {
  const login = (url: string, headers: Record<string, string> = {}) =>
    fetch(`${url}/login?token=${encodeURIComponent(TEST_TOKEN)}`, { redirect: "manual", headers });

  test("the cookie is Secure when a trusted proxy says the request came over TLS; the header is ignored from anyone else", async () => {
    const trusted = serve({ trustProxy: ["127.0.0.1", "::1"] });
    expect((await login(trusted.url, { "x-forwarded-proto": "https" })).headers.get("set-cookie")).toContain("; Secure");
    expect((await login(trusted.url)).headers.get("set-cookie")).not.toContain("Secure");
    const direct = serve();
    expect((await login(direct.url, { "x-forwarded-proto": "https" })).headers.get("set-cookie")).not.toContain("Secure");
    const forced = serve({ secureCookies: true });
    expect((await login(forced.url)).headers.get("set-cookie")).toContain("; Secure");
  });

  test("the cross-site check compares Origin with the host the proxy was addressed by (X-Forwarded-Host), from a trusted proxy only", async () => {
    const trusted = serve({ trustProxy: ["127.0.0.1"] });
    const post = (url: string, headers: Record<string, string>) => fetch(`${url}/api/jobs`, {
      method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${TEST_TOKEN}`, ...headers },
      body: JSON.stringify({ prompt: "hello", cwd: "/tmp" }),
    });
    const proxied = { origin: "https://jobs.example.com", "x-forwarded-host": "jobs.example.com", "x-forwarded-proto": "https" };
    expect((await post(trusted.url, proxied)).status).toBe(201);
    expect((await post(trusted.url, { ...proxied, origin: "https://evil.example" })).status).toBe(403);
    const direct = serve({ allowAnyHost: true });
    expect((await post(direct.url, proxied)).status).toBe(403);
  });
});
