// The dashboard's guards, run on every request before routing: security
// headers, the Host check, the access token (bearer header or a server-side
// session behind an HttpOnly cookie), the slow-down on wrong tokens and the
// cross-site check on mutations. Every mode needs the token: loopback is not
// a user boundary (any local user can connect to 127.0.0.1), and enqueueing
// runs an agent as the dashboard's user.

import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

export const SESSION_COOKIE = "cj_session";

export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": CSP,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "same-origin",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=()",
};

/** Paths that need no token: the login and logout routes, static assets, and the health check. */
export function isPublicPath(path: string): boolean {
  return path === "/login" || path === "/logout" || path === "/healthz" || path.startsWith("/assets/");
}

/** Paths whose clients are programs: they get 401 JSON, not a redirect to the login page. */
export function isApiPath(path: string): boolean {
  return path.startsWith("/api/") || path === "/metrics" || path === "/openapi.json";
}

/** The shortest token accepted. A generated one is 43 characters (32 random bytes). */
export const MIN_TOKEN_LENGTH = 32;

/** Why a token is too weak to guard a dashboard that runs agents, or null when it will do. */
export function tokenWeakness(token: string): string | null {
  if (/\s/.test(token)) return "must not contain whitespace (a copy-paste accident, or not a random secret)";
  if (token.length < MIN_TOKEN_LENGTH) {
    return `must be at least ${MIN_TOKEN_LENGTH} random characters (got ${token.length}); ` +
      "leave it unset to use the generated token file, or make one with `openssl rand -base64 32`";
  }
  return null;
}

/** A new random token: 32 bytes, base64url (43 characters). */
export function generateToken(): string {
  return randomBytes(32).toString("base64url");
}

/** The URL that signs a browser in: visited once, it sets the session cookie and redirects to `/`. */
export function loginUrl(baseUrl: string, token: string): string {
  return `${baseUrl.replace(/\/+$/, "")}/login?token=${encodeURIComponent(token)}`;
}

function same(a: string, b: string): boolean {
  const x = createHash("sha256").update(a).digest();
  const y = createHash("sha256").update(b).digest();
  return timingSafeEqual(x, y) && a.length === b.length;
}

export function checkToken(given: string, token: string): boolean {
  return same(given, token);
}

export function readCookie(header: string | null, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return null;
}

/**
 * Server-side sessions: the cookie holds a random id (never the token or
 * anything derived from it); the server keeps a hash of it with its expiry.
 * Logout deletes it, so a copied cookie stops working at once; a restart of
 * the dashboard ends every session (sign in again with the login URL).
 */
export class SessionStore {
  private readonly byHash = new Map<string, number>();
  readonly ttlMs: number;
  private readonly max: number;

  constructor(o: { ttlMs?: number; max?: number } = {}) {
    this.ttlMs = o.ttlMs ?? 7 * 86_400_000;
    this.max = o.max ?? 1000;
  }

  private static hash(id: string): string {
    return createHash("sha256").update(id).digest("hex");
  }

  create(now = Date.now()): string {
    const id = randomBytes(32).toString("base64url");
    this.byHash.set(SessionStore.hash(id), now + this.ttlMs);
    // The oldest sessions go first when too many are open (a script logging in in a loop).
    while (this.byHash.size > this.max) this.byHash.delete(this.byHash.keys().next().value!);
    return id;
  }

  valid(id: string | null, now = Date.now()): boolean {
    if (!id || id.length > 100) return false;
    const key = SessionStore.hash(id);
    const expires = this.byHash.get(key);
    if (expires === undefined) return false;
    if (expires <= now) {
      this.byHash.delete(key);
      return false;
    }
    return true;
  }

  revoke(id: string | null): void {
    if (id) this.byHash.delete(SessionStore.hash(id));
  }

  get size(): number {
    return this.byHash.size;
  }
}

export interface ThrottleOptions {
  /** Wrong tokens allowed from one address before it has to wait. Default 5. */
  freeFailures?: number;
  /** The first wait; it doubles with each further failure. Default 1 s. */
  baseDelayMs?: number;
  /** The longest wait. Default 15 min. */
  maxDelayMs?: number;
}

/**
 * The slow-down on wrong tokens, per client address: `freeFailures` are
 * free, then each further one locks the address out for base * 2^n (up to
 * max); while locked out, every attempt is a 429 and the token is not even
 * compared. A right token resets the count. A day without failures forgets
 * the address.
 */
export class LoginThrottle {
  private readonly entries = new Map<string, { failures: number; lockedUntil: number; last: number }>();
  private readonly free: number;
  private readonly base: number;
  private readonly max: number;

  constructor(o: ThrottleOptions = {}) {
    this.free = o.freeFailures ?? 5;
    this.base = o.baseDelayMs ?? 1000;
    this.max = o.maxDelayMs ?? 15 * 60_000;
  }

  /** How long this address must still wait, in ms (0: it may try). */
  waitMs(key: string, now = Date.now()): number {
    const e = this.entries.get(key);
    if (!e) return 0;
    if (now - e.last > 86_400_000) {
      this.entries.delete(key);
      return 0;
    }
    return Math.max(0, e.lockedUntil - now);
  }

  fail(key: string, now = Date.now()): void {
    const e = this.entries.get(key) ?? { failures: 0, lockedUntil: 0, last: now };
    e.failures += 1;
    e.last = now;
    if (e.failures > this.free) e.lockedUntil = now + Math.min(this.base * 2 ** Math.min(e.failures - this.free - 1, 30), this.max);
    this.entries.delete(key);
    this.entries.set(key, e);
    while (this.entries.size > 10_000) this.entries.delete(this.entries.keys().next().value!);
  }

  succeed(key: string): void {
    this.entries.delete(key);
  }
}

/**
 * The peer address of each request, as the server saw it (src/web/server.ts
 * records it before handing the request to the app). Requests handed to
 * app.handle directly have none.
 */
const PEERS = new WeakMap<Request, string>();

export function setPeerAddress(request: Request, address: string): void {
  PEERS.set(request, normalizeAddress(address));
}

export function peerAddress(request: Request): string | undefined {
  return PEERS.get(request);
}

/** "::ffff:127.0.0.1" -> "127.0.0.1"; brackets dropped; lower case. */
export function normalizeAddress(address: string): string {
  const a = address.trim().toLowerCase().replace(/^\[(.*)\]$/, "$1");
  return a.startsWith("::ffff:") && a.includes(".") ? a.slice(7) : a;
}

/** The addresses of the proxies we were told to believe, normalized once (trustedProxies). */
export type TrustedProxies = ReadonlySet<string>;

export function trustedProxies(addresses: readonly string[]): TrustedProxies {
  return new Set(addresses.map(normalizeAddress));
}

/** Does this request come from a proxy we were told to believe? */
export function fromTrustedProxy(request: Request, trusted: TrustedProxies): boolean {
  const peer = peerAddress(request);
  return peer !== undefined && trusted.has(peer);
}

/** The first value of a comma-separated forwarding header. */
function firstValue(header: string | null): string | null {
  const v = header?.split(",")[0]?.trim();
  return v ? v : null;
}

/**
 * Who is asking, for the slow-down: the peer address, or behind a trusted
 * proxy the nearest address in X-Forwarded-For that is not a trusted proxy.
 */
export function clientAddress(request: Request, trusted: TrustedProxies): string {
  const peer = peerAddress(request);
  if (peer === undefined) return "unknown";
  if (!fromTrustedProxy(request, trusted)) return peer;
  const chain = (request.headers.get("x-forwarded-for") ?? "").split(",").map((s) => normalizeAddress(s)).filter(Boolean);
  for (let i = chain.length - 1; i >= 0; i--) if (!trusted.has(chain[i]!)) return chain[i]!;
  return peer;
}

/** Was the request made over TLS: directly, or (from a trusted proxy) per X-Forwarded-Proto? */
export function isHttps(request: Request, url: URL, trusted: TrustedProxies): boolean {
  if (url.protocol === "https:") return true;
  return fromTrustedProxy(request, trusted) && firstValue(request.headers.get("x-forwarded-proto"))?.toLowerCase() === "https";
}

/** The host the browser addressed: the Host header, or (from a trusted proxy) X-Forwarded-Host. */
export function addressedHost(request: Request, url: URL, trusted: TrustedProxies): string {
  const forwarded = fromTrustedProxy(request, trusted) ? firstValue(request.headers.get("x-forwarded-host")) : null;
  return (forwarded ?? request.headers.get("host") ?? url.host).toLowerCase();
}

const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9._-]{0,252})?)(:\d{1,5})?$/i;

/**
 * The request's URL, or null when its Host header is missing or malformed
 * (`[::1]x`, empty, `a b`): Bun then builds a URL that `new URL` refuses,
 * or a bare path. Such a request gets a plain 400 and reaches nothing else.
 */
export function requestUrl(request: Request): URL | null {
  const host = request.headers.get("host");
  if (host !== null && !HOST_HEADER.test(host)) return null;
  try {
    const url = new URL(request.url);
    return url.host === "" || !HOST_HEADER.test(url.host) ? null : url;
  } catch {
    return null;
  }
}

/** A path for messages and routing decisions that never throws (errors.ts uses it for any request). */
export function safePath(request: Request): string {
  try {
    return new URL(request.url).pathname;
  } catch {
    const m = /^[a-z]+:\/\/[^/]*(\/[^?#]*)?/i.exec(request.url) ?? /^(\/[^?#]*)/.exec(request.url);
    return m?.[1] ?? "/";
  }
}

function safeHost(request: Request): string {
  try {
    return new URL(request.url).host;
  } catch {
    return "";
  }
}

/**
 * A mutation must come from this dashboard's own pages or from a program
 * (no Origin, no Sec-Fetch-Site): a cross-site form post or fetch is refused.
 * `host` is the host the browser addressed. Returns why it is refused, or null.
 */
export function crossSiteReason(request: Request, host?: string): string | null {
  const site = request.headers.get("sec-fetch-site");
  if (site && site !== "same-origin" && site !== "none") return `Sec-Fetch-Site is ${site}`;
  const origin = request.headers.get("origin");
  if (origin === null) return null;
  const target = (host ?? request.headers.get("host") ?? safeHost(request)).toLowerCase();
  let originHost: string;
  try {
    originHost = new URL(origin).host.toLowerCase();
  } catch {
    return `Origin ${origin} is not a URL`;
  }
  return originHost === target ? null : `Origin ${origin} is not this dashboard (${target})`;
}

/**
 * A safe place to go after login: an absolute path on this site, normalized,
 * never another host. Anything else (another origin, `//host`, `/\host`,
 * control characters: browsers drop a tab from a Location header, so
 * "/\t/evil.example" would become "//evil.example") is "/". The result is
 * checked again after normalizing, so `/.//evil.example` (which a URL parser
 * turns into the path `//evil.example`) is refused too.
 */
export function safeNext(next: unknown): string {
  if (typeof next !== "string" || next.length > 2000 || !next.startsWith("/") || /[\u0000-\u001f\u007f\\]/.test(next)) return "/";
  if (next.startsWith("//")) return "/";
  const base = "http://dashboard.invalid";
  let target: URL;
  try {
    target = new URL(next, base);
  } catch {
    return "/";
  }
  if (target.origin !== base) return "/";
  const out = target.pathname + target.search + target.hash;
  if (!out.startsWith("/") || out.startsWith("//") || out.startsWith("/\\") || /[\u0000-\u001f\u007f\\]/.test(out)) return "/";
  return out;
}

/**
 * Unless told to answer any name, a request must be addressed to a loopback
 * name (Host header), whatever address it arrived on: DNS rebinding sends a
 * browser's requests for evil.example to 127.0.0.1 with `Host: evil.example`.
 */
export function nonLoopbackHostReason(request: Request): string | null {
  const host = request.headers.get("host") ?? safeHost(request);
  const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.replace(/:\d+$/, "");
  return LOOPBACK.test(name) ? null : `Host ${host} is not a loopback name; this dashboard answers only localhost, 127.0.0.1 and [::1]`;
}

export function sessionCookie(id: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? "; Secure" : ""}`;
}

export function clearCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? "; Secure" : ""}`;
}

export const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|\[::1\]|localhost)$/i;

/**
 * The CLI's rule: listening beyond this machine needs a token chosen on
 * purpose (--token or CLAUDE_JOBS_TOKEN), not only the generated one, since
 * the token then crosses a network (put TLS in front: see the README).
 */
export function checkBind(host: string, token: string | undefined): string | null {
  if (LOOPBACK.test(host) || (token && token.length > 0)) return null;
  return (
    `refusing to listen on ${host} without a token: anyone who can reach it could enqueue a Claude agent ` +
    `that runs commands on this machine. Set --token or CLAUDE_JOBS_TOKEN (${MIN_TOKEN_LENGTH}+ random characters), or bind to 127.0.0.1.`
  );
}
