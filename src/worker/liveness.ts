// The liveness protocol's timings, all in one place.
//
// A worker proves it is alive by holding a session advisory lock. The lock can
// vanish while the worker lives (its session cut, PostgreSQL restarted), so a
// missing lock is first a suspicion: rescuers wait `rescueGraceMs` (the
// worker's own figure, stored on its row) after they first see it missing.
// Meanwhile the live worker either takes its lock again and keeps its jobs,
// or, if it cannot prove its lock for `fenceAfterMs`, fences itself: it
// stops every job and waits for their processes to end. The grace is longer
// than that whole reaction, so nothing starts elsewhere before the worker
// has certainly stopped:
//
//   lastProof ─┬─ probe ─ probe ─ ... ─┬─ fence: abort every job ─┬─ all stopped
//              │                       │ (fenceAfterMs + one      │ (stopWithinMs:
//              │                       │  probe interval at most) │  the handlers' promise)
//   the lock goes missing (after lastProof), a rescuer first sees it: its grace starts
//              └───────────────── rescueGraceMs ─────────────────────────────────┴ margin ┴ rescue
//
// The rescuer's clock starts no earlier than the loss, and the loss comes
// after the worker's last proof, so measuring both from their own starts is
// safe; clocks on different hosts are compared only as durations. A rescuer on
// the worker's own host needs no grace when it sees the worker's process gone
// and no process it started alive (job_rescue.sql).
//
// No lease: a five-hour job needs no setting; only losing the proof costs.

import { MAX_TIMER_MS } from "../duration.ts";

export interface LivenessTimings {
  /** How often the lock session is asked whether it lives. */
  probeIntervalMs: number;
  /** A probe unanswered this long: the session is taken for lost and replaced (its jobs kept). */
  probeTimeoutMs: number;
  /** No proof of the lock for this long: stop every job (they may soon be rescued). */
  fenceAfterMs: number;
  /** Once aborted, every job and its processes have stopped within this (the handlers' promise). */
  stopWithinMs: number;
  /** What rescuers wait after first seeing this worker's lock missing. */
  rescueGraceMs: number;
}

/** Slack for scheduling delays and a rescuer's clock starting late. */
const MARGIN_MS = 5000;

export const DEFAULT_PROBE_INTERVAL_MS = 2000;
export const DEFAULT_FENCE_AFTER_MS = 20_000;
/** What a handler that declares nothing is given to stop after its signal is aborted. */
export const DEFAULT_HANDLER_STOP_MS = 5000;

export function livenessTimings(o: { probeIntervalMs?: number; fenceAfterMs?: number; stopWithinMs: number }): LivenessTimings {
  const probeIntervalMs = o.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS;
  const fenceAfterMs = o.fenceAfterMs ?? DEFAULT_FENCE_AFTER_MS;
  const probeTimeoutMs = Math.min(5000, Math.max(1000, probeIntervalMs * 2));
  if (fenceAfterMs < probeTimeoutMs + probeIntervalMs) {
    throw new RangeError(`fenceAfterMs: must be at least ${probeTimeoutMs + probeIntervalMs} (a probe interval and a probe timeout); got ${fenceAfterMs}`);
  }
  // The fence is checked on each probe tick, so it may act one interval late.
  const rescueGraceMs = fenceAfterMs + probeIntervalMs + o.stopWithinMs + MARGIN_MS;
  if (rescueGraceMs > 86_400_000 || fenceAfterMs > MAX_TIMER_MS) {
    throw new RangeError(`fenceAfterMs and the handlers' stop time: must add up to at most 1 day; got ${rescueGraceMs} ms`);
  }
  return { probeIntervalMs, probeTimeoutMs, fenceAfterMs, stopWithinMs: o.stopWithinMs, rescueGraceMs };
}
