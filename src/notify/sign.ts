// The signature of a delivery: HMAC-SHA256 over "<timestamp>.<raw body>",
// sent as `X-Claude-Jobs-Signature: t=<unix seconds>,v1=<hex>`. The
// timestamp is inside the signed text, so a receiver that refuses old
// timestamps (5 minutes, say) refuses a replayed request too.

import { createHmac, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "x-claude-jobs-signature";

export function signatureOf(secret: string, timestamp: number, body: string): string {
  return createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
}

export function signatureHeader(secret: string, body: string, at: Date): string {
  const t = Math.floor(at.getTime() / 1000);
  return `t=${t},v1=${signatureOf(secret, t, body)}`;
}

/**
 * What a receiver does (and the tests): true when `header` signs `body`
 * with `secret` and its timestamp is within `toleranceS` of `now`.
 */
export function verifySignature(secret: string, body: string, header: string | null, now: Date, toleranceS = 300): boolean {
  if (!header) return false;
  const parts = Object.fromEntries(header.split(",").map((p) => p.trim().split("=", 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || Math.abs(now.getTime() / 1000 - t) > toleranceS || typeof parts.v1 !== "string") return false;
  const want = Buffer.from(signatureOf(secret, t, body), "hex");
  const got = Buffer.from(parts.v1, "hex");
  return got.length === want.length && timingSafeEqual(got, want);
}
