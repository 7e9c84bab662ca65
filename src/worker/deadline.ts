// Waiting with a deadline, the one way the worker does it: for a query that
// may never settle (postgres.js can leave one hanging), a lock acquisition, a
// claim, a probe, a drain at shutdown. The timer is always cleared, so a
// settled wait leaves nothing that keeps the process alive.

import { MAX_TIMER_MS } from "../duration.ts";

/** Whether `p` settled within `ms` (false: the time ran out first). `p` is left to settle on its own. */
export async function settlesWithin(ms: number, p: Promise<unknown>): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(resolve, Math.min(ms, MAX_TIMER_MS), false)));
  try {
    return await Promise.race([p.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `p`'s value, or, when `ms` pass first, the error `overrun()` returns (it
 * may also act on the overrun: replace a stuck client, say).
 */
export async function withDeadline<T>(p: Promise<T>, ms: number, overrun: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(overrun()), Math.min(ms, MAX_TIMER_MS))));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A connection-class error (isDatabaseUnavailable counts it): a deadline passed with no answer. */
export function noAnswer(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}
