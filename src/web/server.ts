// Serving the app on a socket: Bun.serve in production mode (never Bun's
// development error page, which shows stack frames, source lines and the
// working directory), an error handler that answers a plain 500, the peer
// address recorded for the app (the slow-down on wrong tokens, trusted
// proxies), and the security headers on every response, errors included.

import type { Server } from "bun";
import { SECURITY_HEADERS, setPeerAddress } from "./security.ts";

export interface ServeOptions {
  hostname: string;
  port: number;
  /** Largest request body; the app checks Content-Length, this bounds chunked bodies too. */
  maxRequestBodySize: number;
  /** Seconds a connection may stay idle (live log streams send a keep-alive every 15 s). Default 60. */
  idleTimeout?: number;
  /** Where unexpected errors are reported. Default console.error. */
  onError?: (error: unknown) => void;
}

export interface ServedApp {
  server: Server<undefined>;
  /** http://host:port, the host in brackets when it is IPv6. */
  url: string;
  stop(): Promise<void>;
}

/** A response with every security header the app would have set. */
export function withSecurityHeaders(response: Response): Response {
  let headers: Headers;
  try {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) if (!response.headers.has(k)) response.headers.set(k, v);
    return response;
  } catch {
    // immutable headers (a fetched response): copy them
    headers = new Headers(response.headers);
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) if (!headers.has(k)) headers.set(k, v);
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  }
}

/** A plain-text answer with no internals, for requests the app never saw or that broke it. */
export function plainResponse(status: number, text: string): Response {
  return new Response(text + "\n", {
    status,
    headers: { ...SECURITY_HEADERS, "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
  });
}

export function serveApp(app: { handle(request: Request): Response | Promise<Response> }, o: ServeOptions): ServedApp {
  const report = o.onError ?? ((e: unknown) => console.error("claude-jobs dashboard:", e));
  const server = Bun.serve({
    hostname: o.hostname,
    port: o.port,
    development: false,
    maxRequestBodySize: o.maxRequestBodySize,
    idleTimeout: o.idleTimeout ?? 60,
    async fetch(request, srv) {
      const peer = srv.requestIP(request);
      if (peer) setPeerAddress(request, peer.address);
      try {
        return withSecurityHeaders(await app.handle(request));
      } catch (e: unknown) {
        report(e);
        return plainResponse(500, "internal error; the server log has the details");
      }
    },
    error(e) {
      report(e);
      return plainResponse(500, "internal error; the server log has the details");
    },
  });
  const shown = o.hostname.includes(":") ? `[${o.hostname}]` : o.hostname;
  return { server, url: `http://${shown}:${server.port}`, stop: () => server.stop(true) };
}
