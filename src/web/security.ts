// The dashboard's guards, run on every request before routing: security
// headers, the request size limit, the access token (bearer header or the
// login cookie) and the cross-site check on mutations. Also the login and
// logout routes. Without a token the dashboard is open: the CLI allows that
// only on a loopback address.

import { createHmac, timingSafeEqual } from "node:crypto";

export const SESSION_COOKIE = "cj_session";

export const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "same-origin",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=()",
};

/** Paths that need no token: the login page itself, static assets, and the health check. */
export function isPublicPath(path: string): boolean {
  return path === "/login" || path === "/healthz" || path.startsWith("/assets/");
}

/** Paths whose clients are programs: they get 401 JSON, not a redirect to the login page. */
export function isApiPath(path: string): boolean {
  return path.startsWith("/api/") || path === "/metrics" || path === "/openapi.json";
}

/** The cookie value for a token: an HMAC of it, so the cookie never holds the token itself. */
export function sessionValue(token: string): string {
  return createHmac("sha256", token).update("claude-jobs dashboard session v1").digest("base64url");
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function readCookie(header: string | null, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return null;
}

/** Does the request carry the token (bearer) or a valid session cookie? */
export function isAuthorized(request: Request, token: string): boolean {
  const auth = request.headers.get("authorization");
  if (auth?.toLowerCase().startsWith("bearer ") && same(auth.slice(7).trim(), token)) return true;
  const cookie = readCookie(request.headers.get("cookie"), SESSION_COOKIE);
  return cookie !== null && same(cookie, sessionValue(token));
}

export function checkToken(given: string, token: string): boolean {
  return same(given, token);
}

/**
 * A mutation must come from this dashboard's own pages or from a program
 * (no Origin, no Sec-Fetch-Site): a cross-site form post or fetch is refused.
 * Returns why it is refused, or null.
 */
export function crossSiteReason(request: Request): string | null {
  const site = request.headers.get("sec-fetch-site");
  if (site && site !== "same-origin" && site !== "none") return `Sec-Fetch-Site is ${site}`;
  const origin = request.headers.get("origin");
  if (origin === null) return null;
  const host = request.headers.get("host") ?? new URL(request.url).host;
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return `Origin ${origin} is not a URL`;
  }
  return originHost === host ? null : `Origin ${origin} is not this dashboard (${host})`;
}

/**
 * A safe place to go after login: a path on this site, never another host.
 * Control characters and backslashes are refused outright: browsers drop a
 * tab from a Location header, so "/\t/evil.example" would become "//evil.example".
 */
export function safeNext(next: unknown): string {
  if (typeof next !== "string" || !next.startsWith("/") || /[\u0000-\u001f\u007f\\]/.test(next)) return "/";
  const base = "http://dashboard.invalid";
  const target = new URL(next, base);
  return target.origin === base ? target.pathname + target.search + target.hash : "/";
}

/**
 * Without a token, a request must be addressed to a loopback name (Host
 * header), whatever address it arrived on: DNS rebinding sends a browser's
 * requests for evil.example to 127.0.0.1 with `Host: evil.example`.
 */
export function nonLoopbackHostReason(request: Request): string | null {
  const host = request.headers.get("host") ?? new URL(request.url).host;
  const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.replace(/:\d+$/, "");
  return LOOPBACK.test(name) ? null : `Host ${host} is not a loopback name; without a token the dashboard answers only localhost and 127.0.0.1`;
}

export function sessionCookie(token: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${sessionValue(token)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=2592000${secure ? "; Secure" : ""}`;
}

export const CLEAR_COOKIE = `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;

export const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|\[::1\]|localhost)$/i;

/** The CLI's rule: listening beyond this machine needs a token, since enqueueing runs an agent. */
export function checkBind(host: string, token: string | undefined): string | null {
  if (LOOPBACK.test(host) || (token && token.length > 0)) return null;
  return (
    `refusing to listen on ${host} without a token: anyone who can reach it could enqueue a Claude agent ` +
    "that runs commands on this machine. Set --token or CLAUDE_JOBS_TOKEN (16+ random characters), or bind to 127.0.0.1."
  );
}
