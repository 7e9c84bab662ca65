// The dashboard's guards: the token (bearer or a server-side session behind
// the login cookie) on every page and API call in every mode, loopback
// included; logout revoking the session; weak tokens refused; cross-site
// mutations refused; security headers on every response; job data escaped
// everywhere it is shown; and the CLI's refusal to listen beyond loopback
// without a token.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { activeContent, insertJob, statusOf, TEST_TOKEN, webFixture, type WebFixture } from "./helpers.ts";
import { checkBind, safeNext } from "../../src/web/security.ts";
import { createApp } from "../../src/web/app.tsx";
import { dashboardSettings } from "../../src/cli/commands/dashboard.ts";
import type { CliContext } from "../../src/cli/context.ts";

const TOKEN = "s3cret-token-for-tests-0123456789abcdef";
const XSS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", `"><svg onload=alert(1)>`];

let open: WebFixture;
let locked: WebFixture;
let logDir: string;
beforeAll(async () => {
  logDir = mkdtempSync(join(tmpdir(), "cj-web-logs-"));
  open = await webFixture({ logs: { dir: logDir } });
  locked = await webFixture({ token: TOKEN, allowAnyHost: true });
});
afterAll(async () => {
  await open.db.drop();
  await locked.db.drop();
});

const rows = async (f: WebFixture) => (await f.db.sql`SELECT count(*)::int AS n FROM claude_jobs`)[0]!.n as number;
const cookieOf = (r: Response) => r.headers.get("set-cookie")!.split(";")[0]!;

describe("the token", () => {
  for (const mode of ["loopback (the default)", "exposed (any host)"] as const) {
    test(`${mode}: without it, API calls are 401, pages redirect to the login page, and nothing is enqueued`, async () => {
      const f = mode.startsWith("loopback") ? open : locked;
      const host = { host: "127.0.0.1:8080" };
      for (const path of ["/api/stats", "/api/jobs", "/metrics", "/openapi.json", "/api/jobs/0192f1c4-7b1e-7cc0-8d2a-5e1f0a9b3c4d/logs"]) {
        const r = await f.request("GET", path, { auth: false, headers: host });
        expect(r.status).toBe(401);
        expect(r.headers.get("www-authenticate")).toContain("Bearer");
      }
      for (const path of ["/", "/jobs?status=failed", "/workers", "/jobs/new", "/partials/overview"]) {
        const r = await f.request("GET", path, { auth: false, headers: host });
        expect(r.status).toBe(303);
        expect(r.headers.get("location")).toBe(`/login?next=${encodeURIComponent(path)}`);
      }
      const before = await rows(f);
      expect((await f.request("POST", "/api/jobs", { auth: false, headers: host, json: { prompt: "whoami", cwd: "/tmp" } })).status).toBe(401);
      expect((await f.request("POST", "/jobs", { auth: false, headers: host, form: { prompt: "whoami", cwd: "/tmp" } })).status).toBe(401);
      const id = await insertJob(f.db);
      for (const path of [`/api/jobs/${id}/cancel`, `/jobs/${id}/cancel`, `/jobs/${id}/delete`]) {
        expect((await f.request("POST", path, { auth: false, headers: host })).status).toBe(401);
      }
      expect((await f.request("DELETE", `/api/jobs/${id}`, { auth: false, headers: host })).status).toBe(401);
      expect(await statusOf(f.db, id)).toBe("queued");
      expect(await rows(f)).toBe(before + 1);
    });
  }

  test("an app given no token (loopback with nothing configured) is closed, not open: a local user cannot enqueue or read", async () => {
    const app = createApp({ queue: open.queue, sql: open.db.sql, onError: () => {} });
    const before = await rows(open);
    const post = await app.handle(new Request("http://127.0.0.1:8080/api/jobs", {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ prompt: "whoami", cwd: "/tmp" }),
    }));
    expect(post.status).toBe(401);
    expect((await app.handle(new Request("http://127.0.0.1:8080/api/jobs"))).status).toBe(401);
    expect((await app.handle(new Request("http://127.0.0.1:8080/healthz"))).status).toBe(200);
    expect(await rows(open)).toBe(before);
  });

  test("a wrong bearer token is refused; the right one is let in", async () => {
    expect((await locked.request("GET", "/api/stats", { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    expect((await locked.request("GET", "/api/stats", { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect((await locked.request("GET", "/", { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });

  test("the login form sets an HttpOnly SameSite=Strict cookie that opens pages; a wrong token does not", async () => {
    const wrong = await locked.request("POST", "/login", { form: { token: "nope", next: "/jobs" }, auth: false });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-cookie")).toBeNull();
    const r = await locked.request("POST", "/login", { form: { token: TOKEN, next: "/jobs?status=failed" }, auth: false });
    expect(r.status).toBe(303);
    expect(r.headers.get("location")).toBe("/jobs?status=failed");
    const cookie = r.headers.get("set-cookie")!;
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    expect(cookie).not.toContain(TOKEN);
    const session = cookieOf(r);
    expect((await locked.request("GET", "/jobs", { headers: { cookie: session } })).status).toBe(200);
    expect((await locked.request("GET", "/api/stats", { headers: { cookie: session } })).status).toBe(200);
    expect((await locked.request("GET", "/api/stats", { headers: { cookie: "cj_session=forged" } })).status).toBe(401);
  });

  test("the login URL (/login?token=...) signs in and redirects to a URL without the token", async () => {
    const r = await open.request("GET", `/login?token=${encodeURIComponent(TEST_TOKEN)}`, { auth: false });
    expect(r.status).toBe(303);
    expect(r.headers.get("location")).toBe("/");
    expect(r.headers.get("set-cookie")).toContain("HttpOnly");
    const session = cookieOf(r);
    expect((await open.request("POST", "/api/jobs", { headers: { cookie: session }, json: { prompt: "hello", cwd: "/tmp" } })).status).toBe(201);
    const next = await open.request("GET", `/login?token=${encodeURIComponent(TEST_TOKEN)}&next=${encodeURIComponent("/jobs?status=failed")}`, { auth: false });
    expect(next.headers.get("location")).toBe("/jobs?status=failed");
    const wrong = await open.request("GET", "/login?token=not-the-token", { auth: false });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-cookie")).toBeNull();
  });

  test("another site cannot sign a browser in through a login URL", async () => {
    const r = await open.request("GET", `/login?token=${encodeURIComponent(TEST_TOKEN)}`, { auth: false, headers: { "sec-fetch-site": "cross-site" } });
    expect(r.status).toBe(200);
    expect(r.headers.get("set-cookie")).toBeNull();
  });

  test("logout revokes the session: the same cookie is refused afterwards", async () => {
    const login = await locked.request("POST", "/login", { form: { token: TOKEN }, auth: false });
    const session = cookieOf(login);
    expect((await locked.request("GET", "/api/stats", { headers: { cookie: session } })).status).toBe(200);
    const out = await locked.request("POST", "/logout", { headers: { cookie: session } });
    expect(out.status).toBe(303);
    expect(out.headers.get("set-cookie")).toContain("Max-Age=0");
    expect((await locked.request("GET", "/api/stats", { headers: { cookie: session } })).status).toBe(401);
    expect((await locked.request("POST", "/api/jobs", { headers: { cookie: session }, json: { prompt: "x", cwd: "/tmp" } })).status).toBe(401);
  });

  test("a weak token is refused with a clear error: short, or with whitespace", () => {
    const base = { queue: open.queue, sql: open.db.sql };
    expect(() => createApp({ ...base, token: "short" })).toThrow(/token: must be at least 32 random characters/);
    expect(() => createApp({ ...base, token: "x".repeat(31) })).toThrow(/at least 32/);
    expect(() => createApp({ ...base, token: `${"x".repeat(20)} ${"y".repeat(20)}` })).toThrow(/whitespace/);
    expect(() => createApp({ ...base, token: `${"x".repeat(40)}\n` })).toThrow(/whitespace/);
    expect(() => createApp({ ...base, token: "x".repeat(32) })).not.toThrow();
  });

  test("login never redirects to another site", async () => {
    for (const next of ["https://evil.example/", "//evil.example/", "/\\evil.example", "/.//evil.example", "/./\\evil.example", "/a/..//evil.example", "/%2e//evil.example"]) {
      const r = await locked.request("POST", "/login", { form: { token: TOKEN, next }, auth: false });
      const location = r.headers.get("location")!;
      expect(location.startsWith("//") || location.startsWith("/\\") || !location.startsWith("/")).toBe(false);
      expect(new URL(location, "http://dashboard.test").origin).toBe("http://dashboard.test");
    }
    expect(safeNext("/.//evil.example")).toBe("/");
  });

  test("the login page, assets and the health check need no token", async () => {
    expect((await locked.request("GET", "/login", { auth: false })).status).toBe(200);
    expect((await locked.request("GET", "/assets/style.css", { auth: false })).status).toBe(200);
    expect((await locked.request("GET", "/healthz", { auth: false })).status).toBe(200);
  });
});

describe("cross-site requests", () => {
  test("a mutation from another origin or site is refused and changes nothing", async () => {
    const id = await insertJob(open.db);
    const refused: Record<string, string>[] = [{ origin: "https://evil.example" }, { "sec-fetch-site": "cross-site" }, { "sec-fetch-site": "same-site" }, { origin: "null" }];
    for (const headers of refused) {
      const r = await open.request("POST", `/jobs/${id}/cancel`, { headers });
      expect(r.status).toBe(403);
      expect((await open.request("POST", `/api/jobs/${id}/cancel`, { headers })).status).toBe(403);
    }
    expect(await statusOf(open.db, id)).toBe("queued");
  });

  test("the dashboard's own origin and non-browser clients may post", async () => {
    const a = await insertJob(open.db);
    const b = await insertJob(open.db);
    expect((await open.request("POST", `/jobs/${a}/cancel`, { headers: { origin: "http://localhost", "sec-fetch-site": "same-origin" } })).status).toBe(303);
    expect((await open.request("POST", `/api/jobs/${b}/cancel`)).status).toBe(200);
  });
});

describe("headers and limits", () => {
  test("every response carries the security headers, with a CSP that allows no inline script", async () => {
    for (const path of ["/", "/api/stats", "/nope", "/assets/app.js", "/login"]) {
      const r = await open.request("GET", path);
      const csp = r.headers.get("content-security-policy")!;
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain("unsafe-inline");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(r.headers.get("x-content-type-options")).toBe("nosniff");
      expect(r.headers.get("referrer-policy")).toBe("same-origin");
    }
  });

  test("pages have no inline script and load htmx and the client from the app", async () => {
    const page = await (await open.request("GET", "/")).text();
    expect(await activeContent(page)).toEqual([]);
    expect(page).toContain('src="/assets/htmx.min.js');
    const htmx = await open.request("GET", "/assets/htmx.min.js");
    expect(htmx.headers.get("content-type")).toContain("javascript");
    expect((await htmx.text()).length).toBeGreaterThan(10_000);
  });
});

describe("escaping job data", () => {
  test("the checker itself finds unescaped markup", async () => {
    expect(await activeContent(`<p>${XSS[0]}${XSS[1]}${XSS[2]}</p>`)).toEqual(["inline <script>", "<img>", "img[onerror]", "svg[onload]"]);
  });

  test("prompts, payloads, errors, results and output render as text", async () => {
    for (const evil of XSS) {
      const id = await insertJob(open.db, {
        status: "failed", kind: "claude", queue: "default",
        payload: { prompt: evil, cwd: evil },
        errors: [{ attempt: 1, at: new Date().toISOString(), message: evil }],
        result: { result: evil, sessionId: evil, totalCostUsd: 0.1, subtype: evil, model: evil },
      });
      writeFileSync(join(logDir, `${id}-20250101-000000.stdout.log`),
        JSON.stringify({ type: "assistant", message: { content: [{ type: "text", text: evil }, { type: "tool_use", name: evil, input: { command: evil } }] } }) + "\n" + evil + "\n");
      for (const path of [`/jobs/${id}`, "/jobs", "/", `/partials/jobs/${id}`, "/partials/jobs", "/partials/overview"]) {
        const html = await (await open.request("GET", path)).text();
        expect(await activeContent(html)).toEqual([]);
      }
      const page = await (await open.request("GET", `/jobs/${id}`)).text();
      expect(page).toContain(Bun.escapeHTML(evil));
      const raw = await open.request("GET", `/jobs/${id}/logs/${id}-20250101-000000.stdout.log`);
      expect(raw.headers.get("content-type")).toContain("text/plain");
      expect(raw.headers.get("x-content-type-options")).toBe("nosniff");
    }
  });

  test("a failed enqueue form shows what was typed, escaped", async () => {
    const r = await open.request("POST", "/jobs", { form: { prompt: XSS[0]!, cwd: XSS[1]! } });
    expect(r.status).toBe(422);
    const html = await r.text();
    expect(await activeContent(html)).toEqual([]);
    expect(html).toContain(Bun.escapeHTML(XSS[0]!));
  });
});

describe("binding beyond loopback", () => {
  const ctx = { env: {}, config: {}, out() {}, err() {}, onSignal() {} } as unknown as CliContext;
  const values = (v: Record<string, string | undefined>) => ({ port: "8080", host: "127.0.0.1", "log-dir": "/tmp/logs", ...v });

  test("a non-loopback host without a token is refused, saying why", () => {
    expect(() => dashboardSettings(ctx, values({ host: "0.0.0.0" }))).toThrow(/refusing to listen on 0\.0\.0\.0 without a token/);
    expect(() => dashboardSettings(ctx, values({ host: "192.168.1.5" }))).toThrow(/--token or CLAUDE_JOBS_TOKEN/);
    expect(checkBind("::", undefined)).toContain("refusing");
  });

  test("loopback needs no token; any host is allowed with a long enough token", () => {
    for (const host of ["127.0.0.1", "localhost", "::1"]) expect(dashboardSettings(ctx, values({ host })).host).toBe(host);
    expect(dashboardSettings(ctx, values({ host: "0.0.0.0", token: TOKEN })).token).toBe(TOKEN);
    expect(checkBind("0.0.0.0", undefined)).toContain("32+ random characters");
    expect(() => dashboardSettings(ctx, values({ host: "0.0.0.0", token: "short" }))).toThrow(/at least 32/);
    expect(() => dashboardSettings(ctx, values({ port: "http" }))).toThrow(/--port/);
  });
});
