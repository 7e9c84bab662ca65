/** @jsxImportSource @kitajs/html */
// createApp(deps): the dashboard and HTTP API as one Elysia app, with no
// listening socket (server.ts serves it; tests call app.handle). Guards run
// first on every request (security.ts), errors map to status codes in one
// place (errors.ts). The web layer never imports the worker.
//
// Every page and API call needs the token, in every mode: loopback is not a
// user boundary, and reading is not harmless either (prompts and agent
// output can hold secrets). Only /healthz, /assets/*, /login and /logout
// are open.

import { Elysia } from "elysia";
import { html } from "@elysiajs/html";
import type { Queue } from "../queue/client.ts";
import type { Sql } from "../db/connect.ts";
import { InputError } from "../errors.ts";
import type { LogSource } from "./logs.ts";
import {
  LoginThrottle, SECURITY_HEADERS, SESSION_COOKIE, SessionStore, addressedHost, checkToken, clearCookie, clientAddress,
  crossSiteReason, fromTrustedProxy, generateToken, trustedProxies, isApiPath, isHttps, isPublicPath, nonLoopbackHostReason, readCookie,
  requestUrl, safeNext, sessionCookie, tokenWeakness, type ThrottleOptions,
} from "./security.ts";
import { errorResponse } from "./errors.ts";
import { checkQueryString, limitedParser } from "./body.ts";
import { assetResponse } from "./assets.ts";
import { Metrics } from "./metrics.ts";
import { OPENAPI } from "./openapi.ts";
import { apiRoutes } from "./api.ts";
import { pageRoutes } from "./pages.tsx";
import { actionRoutes } from "./actions.tsx";
import { LoginPage } from "./views/forms.tsx";

export interface AppDeps {
  queue: Queue;
  sql: Sql;
  /**
   * The access token every page and API call needs (bearer header, or the
   * session cookie the login sets), at least 32 characters, no whitespace.
   * The CLI passes --token / CLAUDE_JOBS_TOKEN, else loadOrCreateToken's
   * (src/web/token-file.ts). Absent: a random token nobody knows, so the
   * dashboard is closed (only /healthz and the assets answer), with a warning.
   */
  token?: string;
  /**
   * Answer requests addressed to any host name. Default false: only to
   * localhost, 127.0.0.1 or [::1] (421 otherwise), so a page that rebinds its
   * own DNS name to 127.0.0.1 reaches nothing. Set it when listening beyond
   * loopback.
   */
  allowAnyHost?: boolean;
  /**
   * Peer addresses of reverse proxies whose X-Forwarded-Proto, -Host and -For
   * are believed (the cookie's Secure flag, the cross-site check, the
   * slow-down's client address). Default none: the headers are ignored.
   */
  trustProxy?: string[];
  /** Always mark the session cookie Secure (TLS ends in front of a proxy that sends no X-Forwarded-Proto). */
  secureCookies?: boolean;
  /** How long a login lasts. Default 7 days (a restart of the dashboard ends every session). */
  sessionTtlMs?: number;
  /** The slow-down on wrong tokens. Default: 5 free, then 1 s doubling up to 15 min, per client address. */
  loginThrottle?: ThrottleOptions;
  /** Where the Claude logs are, for the output views; absent: the job's result only. */
  logs?: LogSource;
  /** Largest request body accepted, in bytes. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Where unexpected errors are reported. Default console.error. */
  onError?: (error: unknown) => void;
  /** How long the count of jobs no live worker handles is reused (src/web/unserved.ts). Default 10 s. */
  unservedTtlMs?: number;
}

export const DEFAULT_MAX_BODY_BYTES = 1 << 20;
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

const redirect = (location: string, headers: Record<string, string> = {}) => new Response(null, { status: 303, headers: { ...headers, location } });

export function createApp(deps: AppDeps) {
  const maxBody = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  let token = deps.token;
  if (token === undefined || token === "") {
    token = generateToken();
    console.warn("claude-jobs dashboard: no token given; every page and API call is closed (pass the token file's token: loadOrCreateToken)");
  }
  const weak = tokenWeakness(token);
  if (weak) throw new InputError("token", weak);
  const secret = token;
  const trusted = trustedProxies(deps.trustProxy ?? []);
  const sessions = new SessionStore({ ttlMs: deps.sessionTtlMs });
  const throttle = new LoginThrottle(deps.loginThrottle);
  const report = deps.onError ?? ((e: unknown) => console.error("claude-jobs dashboard:", e));
  const routeDeps: AppDeps = { ...deps, token: secret };
  // Its histogram counts the jobs that end from now on, for the life of the app.
  const metrics = new Metrics(deps.queue, deps.sql);

  const sessionOf = (request: Request) => readCookie(request.headers.get("cookie"), SESSION_COOKIE);
  const bearerOf = (request: Request) => {
    const auth = request.headers.get("authorization");
    return auth?.toLowerCase().startsWith("bearer ") ? auth.slice(7).trim() : null;
  };
  const secure = (request: Request) => deps.secureCookies === true || isHttps(request, requestUrl(request)!, trusted);
  /**
   * One try of a token (login form, login URL, bearer), under the slow-down:
   * "wait" (too many wrong ones from this address: retry after that many
   * seconds, nothing checked), else whether it is right, recorded either way.
   */
  const waitOf = (client: string) => Math.ceil(throttle.waitMs(client) / 1000);
  const tryToken = (request: Request, given: unknown): { wait: number } | { ok: boolean } => {
    const client = clientAddress(request, trusted);
    const wait = waitOf(client);
    if (wait > 0) return { wait };
    const ok = typeof given === "string" && checkToken(given, secret);
    if (ok) throttle.succeed(client);
    else throttle.fail(client);
    return { ok };
  };
  const tooMany = (seconds: number) => `too many wrong tokens from this address; try again in ${seconds} s`;
  const tooManySentence = (seconds: number) => `Too many wrong tokens from this address; try again in ${seconds} s.`;

  /** Checks a token given at login (form or login URL): a session cookie, or 401/429 with the login page. */
  const signIn = (request: Request, given: unknown, next: string): Response => {
    const page = (status: number, p: { failed?: boolean; message?: string }, headers: Record<string, string> = {}) =>
      new Response("<!doctype html>" + (<LoginPage next={next} {...p} /> as string), {
        status, headers: { ...headers, "content-type": "text/html; charset=utf-8" },
      });
    const tried = tryToken(request, given);
    if ("wait" in tried) {
      return page(429, { message: tooManySentence(tried.wait) }, { "retry-after": String(tried.wait) });
    }
    if (!tried.ok) return page(401, { failed: true });
    const id = sessions.create();
    return redirect(next, { "set-cookie": sessionCookie(id, Math.floor(sessions.ttlMs / 1000), secure(request)) });
  };

  // normalize: false, so a body with an unknown field is a 422, not silently trimmed.
  return new Elysia({ normalize: false })
    .use(html())
    .onRequest(({ request, set }) => {
      Object.assign(set.headers, SECURITY_HEADERS);
      // A Host header that is missing or malformed (`[::1]x`, empty, `a b`)
      // makes a URL nothing can parse: a plain 400, before anything else.
      const url = requestUrl(request);
      if (!url) {
        return new Response("bad request: the Host header is missing or malformed\n", {
          status: 400, headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
        });
      }
      const path = url.pathname;
      if (!path.startsWith("/assets/")) set.headers["cache-control"] = "no-store";
      const lengthHeader = request.headers.get("content-length");
      const length = lengthHeader === null ? 0 : /^\d{1,15}$/.test(lengthHeader.trim()) ? Number(lengthHeader) : NaN;
      if (!Number.isFinite(length) || length > maxBody) {
        return Response.json({ error: "too_large", field: "body", message: `body: at most ${maxBody} bytes` }, { status: 413 });
      }
      checkQueryString(url.search);
      // Requests must be addressed to a loopback name unless the dashboard
      // listens beyond loopback (or a trusted proxy forwards them).
      if (!deps.allowAnyHost && !isPublicPath(path) && !fromTrustedProxy(request, trusted)) {
        const why = nonLoopbackHostReason(request);
        if (why) return Response.json({ error: "misdirected", message: why }, { status: 421 });
      }
      if (!isPublicPath(path) && !sessions.valid(sessionOf(request))) {
        const bearer = bearerOf(request);
        let ok = false;
        if (bearer !== null) {
          const tried = tryToken(request, bearer);
          if ("wait" in tried) {
            return Response.json({ error: "too_many_attempts", message: tooMany(tried.wait) }, {
              status: 429, headers: { "retry-after": String(tried.wait) },
            });
          }
          ok = tried.ok;
        }
        if (!ok) {
          if (isApiPath(path) || request.method !== "GET") {
            return Response.json({ error: "unauthorized", message: "send Authorization: Bearer <token>, or sign in at /login" }, {
              status: 401, headers: { "www-authenticate": 'Bearer realm="claude-jobs"' },
            });
          }
          return redirect(`/login?next=${encodeURIComponent(path + url.search)}`);
        }
      }
      if (!SAFE_METHODS.has(request.method)) {
        const why = crossSiteReason(request, addressedHost(request, url, trusted));
        if (why) return Response.json({ error: "forbidden", message: `cross-site request refused: ${why}` }, { status: 403 });
      }
    })
    .onParse(limitedParser(maxBody))
    .onError(({ code, error, request }) => {
      try {
        const response = errorResponse(request, code, error, true);
        if (response.status >= 500) report(error);
        return response;
      } catch (e: unknown) {
        report(e);
        return new Response("internal error\n", { status: 500, headers: { "content-type": "text/plain; charset=utf-8" } });
      }
    })
    .get("/assets/:name", ({ params }) => assetResponse(params.name) ?? new Response("not found", { status: 404 }))
    .get("/healthz", async () => {
      try {
        await deps.sql`SELECT 1`;
        return { ok: true };
      } catch {
        return Response.json({ ok: false, error: "database unreachable" }, { status: 503 });
      }
    })
    .get("/metrics", async () => new Response(await metrics.render(), {
      headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
    }))
    .get("/openapi.json", () => OPENAPI)
    // The login URL the CLI prints (/login?token=...) signs in and redirects
    // at once, so the token leaves the address bar; without a token, the form.
    .get("/login", ({ query, request }) => {
      const next = safeNext(query.next);
      // Only a navigation the user started (typed, pasted, clicked in a terminal: no
      // Sec-Fetch-Site, or "none"): another site cannot sign a browser in, or spend
      // this address's wrong-token allowance, by linking to a login URL.
      const site = request.headers.get("sec-fetch-site");
      if (query.token !== undefined && (site === null || site === "none" || site === "same-origin")) return signIn(request, query.token, next);
      if (sessions.valid(sessionOf(request))) return redirect(next);
      const seconds = waitOf(clientAddress(request, trusted));
      return <LoginPage next={next} message={seconds > 0 ? tooManySentence(seconds) : undefined} />;
    })
    .post("/login", ({ body, request }) => {
      const form = (body ?? {}) as Record<string, unknown>;
      return signIn(request, form.token, safeNext(form.next));
    })
    // Logout revokes the session on the server: the cookie, even copied, stops working.
    .post("/logout", ({ request }) => {
      sessions.revoke(sessionOf(request));
      return redirect("/login", { "set-cookie": clearCookie(secure(request)) });
    })
    .use(apiRoutes(routeDeps))
    .use(pageRoutes(routeDeps))
    .use(actionRoutes(routeDeps));
}

export type App = ReturnType<typeof createApp>;
