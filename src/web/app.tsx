/** @jsxImportSource @kitajs/html */
// createApp(deps): the dashboard and HTTP API as one Elysia app, with no
// listening socket (the CLI serves it; tests call app.handle). Guards run
// first on every request (security.ts), errors map to status codes in one
// place (errors.ts). The web layer never imports the worker.

import { Elysia } from "elysia";
import { html } from "@elysiajs/html";
import type { Queue } from "../queue/client.ts";
import type { Sql } from "../db/connect.ts";
import type { LogSource } from "./logs.ts";
import {
  CLEAR_COOKIE, SECURITY_HEADERS, checkToken, crossSiteReason, isApiPath, isAuthorized, isPublicPath, nonLoopbackHostReason,
  safeNext, sessionCookie,
} from "./security.ts";
import { errorResponse } from "./errors.ts";
import { limitedParser } from "./body.ts";
import { assetResponse } from "./assets.ts";
import { renderMetrics } from "./metrics.ts";
import { OPENAPI } from "./openapi.ts";
import { apiRoutes } from "./api.ts";
import { pageRoutes } from "./pages.tsx";
import { actionRoutes } from "./actions.tsx";
import { LoginPage } from "./views/forms.tsx";

export interface AppDeps {
  queue: Queue;
  sql: Sql;
  /** With a token, every page and API call needs it (bearer header or the login cookie). */
  token?: string;
  /** Where the Claude logs are, for the output views; absent: the job's result only. */
  logs?: LogSource;
  /** Largest request body accepted, in bytes. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Where unexpected errors are reported. Default console.error. */
  onError?: (error: unknown) => void;
}

export const DEFAULT_MAX_BODY_BYTES = 1 << 20;
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function createApp(deps: AppDeps) {
  const maxBody = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const token = deps.token || undefined;
  const report = deps.onError ?? ((e: unknown) => console.error("claude-jobs dashboard:", e));
  // normalize: false, so a body with an unknown field is a 422, not silently trimmed.
  return new Elysia({ normalize: false })
    .use(html())
    .onRequest(({ request, set }) => {
      const path = new URL(request.url).pathname;
      Object.assign(set.headers, SECURITY_HEADERS);
      if (!path.startsWith("/assets/")) set.headers["cache-control"] = "no-store";
      const length = Number(request.headers.get("content-length") ?? "0");
      if (!Number.isFinite(length) || length > maxBody) {
        return Response.json({ error: "too_large", message: `body: at most ${maxBody} bytes` }, { status: 413 });
      }
      // Without a token the dashboard trusts the machine it runs on, so it
      // answers only requests addressed to a loopback name: a page that
      // rebinds its own DNS name to 127.0.0.1 must not reach it.
      if (!token && !isPublicPath(path)) {
        const why = nonLoopbackHostReason(request);
        if (why) return Response.json({ error: "misdirected", message: why }, { status: 421 });
      }
      if (token && !isPublicPath(path) && !isAuthorized(request, token)) {
        if (isApiPath(path) || request.method !== "GET") {
          return Response.json({ error: "unauthorized", message: "send Authorization: Bearer <token>" }, {
            status: 401, headers: { "www-authenticate": 'Bearer realm="claude-jobs"' },
          });
        }
        return new Response(null, { status: 303, headers: { location: `/login?next=${encodeURIComponent(path + new URL(request.url).search)}` } });
      }
      if (!SAFE_METHODS.has(request.method)) {
        const why = crossSiteReason(request);
        if (why) return Response.json({ error: "forbidden", message: `cross-site request refused: ${why}` }, { status: 403 });
      }
    })
    .onParse(limitedParser(maxBody))
    .onError(({ code, error, request }) => {
      const response = errorResponse(request, code, error, Boolean(token));
      if (response.status >= 500) report(error);
      return response;
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
    .get("/metrics", async () => new Response(await renderMetrics(deps.queue, deps.sql), {
      headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
    }))
    .get("/openapi.json", () => OPENAPI)
    .get("/login", ({ query }) => (token ? <LoginPage next={safeNext(query.next)} /> : new Response(null, { status: 303, headers: { location: "/" } })))
    .post("/login", ({ body, request, set }) => {
      const form = (body ?? {}) as Record<string, string | undefined>;
      const next = safeNext(form.next);
      if (!token) return new Response(null, { status: 303, headers: { location: next } });
      if (typeof form.token !== "string" || !checkToken(form.token, token)) {
        set.status = 401;
        return <LoginPage next={next} failed />;
      }
      const secure = new URL(request.url).protocol === "https:";
      return new Response(null, { status: 303, headers: { location: next, "set-cookie": sessionCookie(token, secure) } });
    })
    .post("/logout", () => new Response(null, { status: 303, headers: { location: token ? "/login" : "/", "set-cookie": CLEAR_COOKIE } }))
    .use(apiRoutes(deps))
    .use(pageRoutes(deps))
    .use(actionRoutes(deps));
}

export type App = ReturnType<typeof createApp>;
