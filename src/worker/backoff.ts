// Retry delay after a failed attempt: 2^(attempt-1) seconds, capped at five
// minutes (the seed's formula): 1s, 2s, 4s, ... 256s, then 300s.

export const BACKOFF_CAP_MS = 5 * 60_000;

export function backoffMs(attempt: number): number {
  return Math.min(2 ** Math.max(0, attempt - 1) * 1000, BACKOFF_CAP_MS);
}
