// From the records to the verdict's figures. Pure functions over plain data
// (selfcheck.ts feeds them planted faults to prove they catch them).
//
// An execution is one start line and its end line, in one worker process.
// Its end, when it has no end line, is:
//   - the time the harness sent that process SIGKILL (it cannot run past it);
//   - else the time the process exited by itself (a crash);
//   - else it is open: the process lives and the execution may still run.
// Two executions of one job overlap when their [start, end] intersect.
// A re-run of a job whose worker lived: an execution that started although
// the process of the job's previous execution had not died before it (we
// had not SIGKILLed it, it had not crashed), and that previous execution had
// not been handed back by a graceful shutdown. A process that left cleanly
// after our SIGTERM counts as having lived: it had every chance to write the
// outcome or hand the job back. Invariant 2 forbids such re-runs: a worker
// that lived keeps its jobs and writes their outcomes, exactly once.

import { readdirSync } from "node:fs";
import { join } from "node:path";
import { readLines } from "./harness.ts";

export interface ExecLine {
  ev: "start" | "end";
  job: string;
  attempt: number;
  pid: number;
  wid?: number | null;
  kind?: string;
  t: number;
  wall?: number;
  how?: "done" | "aborted" | "failed";
  reason?: string;
  error?: string;
}

/** What the harness knows of a worker process. */
export interface ProcFacts {
  pid: number;
  /** When we sent it SIGKILL. */
  sigkillAt?: number;
  /** When it exited (any cause). */
  exitedAt?: number;
  /** When it exited, if that exit was a crash (not our SIGKILL, not a clean exit after our SIGTERM). */
  crashedAt?: number;
}

export interface Execution {
  job: string;
  attempt: number;
  pid: number;
  kind?: string;
  start: number;
  /** Infinity while open. */
  end: number;
  endBy: "line" | "sigkill" | "exit" | "open";
  how?: string;
  reason?: string;
}

export interface JobRow {
  id: string;
  status: string;
  attempts: number;
  error?: string | null;
}

export function readExecLines(execDir: string): ExecLine[] {
  const out: ExecLine[] = [];
  let files: string[] = [];
  try {
    files = readdirSync(execDir).filter((f) => f.endsWith(".jsonl"));
  } catch {
    return out;
  }
  for (const f of files) out.push(...readLines<ExecLine>(join(execDir, f)));
  return out;
}

export function buildExecutions(lines: ExecLine[], procs: Map<number, ProcFacts>): Execution[] {
  const done: Execution[] = [];
  // Open executions per process and (job, attempt); a list, in case one process ran the same attempt twice.
  const open = new Map<string, Execution[]>();
  const key = (l: { pid: number; job: string; attempt: number }) => `${l.pid}:${l.job}:${l.attempt}`;
  for (const l of [...lines].sort((a, b) => a.t - b.t)) {
    if (l.ev === "start") {
      const e: Execution = { job: l.job, attempt: l.attempt, pid: l.pid, kind: l.kind, start: l.t, end: Infinity, endBy: "open" };
      open.set(key(l), [...(open.get(key(l)) ?? []), e]);
    } else {
      const e = open.get(key(l))?.shift();
      if (!e) continue; // an end without a start cannot be written by worker.ts
      Object.assign(e, { end: l.t, endBy: "line", how: l.how, reason: l.reason });
      done.push(e);
    }
  }
  for (const list of open.values()) {
    for (const e of list) {
      const p = procs.get(e.pid);
      if (p?.sigkillAt !== undefined && p.sigkillAt >= e.start) Object.assign(e, { end: p.sigkillAt, endBy: "sigkill" });
      else if (p?.exitedAt !== undefined) Object.assign(e, { end: p.exitedAt, endBy: "exit" });
      done.push(e);
    }
  }
  return done.sort((a, b) => a.start - b.start);
}

export interface Overlap {
  job: string;
  a: Execution;
  b: Execution;
  /** Milliseconds both ran (Infinity if one is still open). */
  ms: number;
}

export interface Findings {
  executions: number;
  /** executions per job -> number of jobs, over the jobs we enqueued */
  histogram: Record<string, number>;
  overlaps: Overlap[];
  liveReruns: { job: string; previous: Execution; rerun: Execution }[];
  /** enqueued but missing from the table */
  missing: string[];
  /** finished in the table, though no execution of it completed its work */
  finishedUnworked: string[];
  notFinal: { id: string; status: string }[];
  failed: string[];
  failedRows: JobRow[];
  cancelled: string[];
  open: Execution[];
  statuses: Record<string, number>;
}

export function analyze(input: {
  executions: Execution[];
  procs: Map<number, ProcFacts>;
  rows: JobRow[];
  enqueued: string[];
  /** The final states a job may end in here (default: finished only is expected; others are reported). */
}): Findings {
  const { executions, procs, rows, enqueued } = input;
  const byJob = new Map<string, Execution[]>();
  for (const e of executions) byJob.set(e.job, [...(byJob.get(e.job) ?? []), e]);

  const histogram: Record<string, number> = {};
  for (const id of enqueued) {
    const n = String(byJob.get(id)?.length ?? 0);
    histogram[n] = (histogram[n] ?? 0) + 1;
  }

  const overlaps: Overlap[] = [];
  const liveReruns: Findings["liveReruns"] = [];
  for (const [job, list] of byJob) {
    list.sort((a, b) => a.start - b.start);
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i]!;
        const b = list[j]!;
        if (b.start < a.end) overlaps.push({ job, a, b, ms: Math.min(a.end, b.end) - b.start });
      }
      if (i === 0) continue;
      const previous = list[i - 1]!;
      const rerun = list[i]!;
      if (previous.reason === "shutdown") continue; // handed back by a graceful stop: a legitimate re-run
      const p = procs.get(previous.pid);
      const diedBefore = (p?.crashedAt !== undefined && p.crashedAt <= rerun.start)
        || (p?.sigkillAt !== undefined && p.sigkillAt <= rerun.start);
      if (!diedBefore) liveReruns.push({ job, previous, rerun });
    }
  }

  const table = new Map(rows.map((r) => [r.id, r]));
  const missing = enqueued.filter((id) => !table.has(id));
  const finishedUnworked = rows
    .filter((r) => r.status === "finished" && !(byJob.get(r.id) ?? []).some((e) => e.how === "done"))
    .map((r) => r.id);
  const notFinal = rows.filter((r) => r.status === "queued" || r.status === "running").map((r) => ({ id: r.id, status: r.status }));
  const statuses: Record<string, number> = {};
  for (const r of rows) statuses[r.status] = (statuses[r.status] ?? 0) + 1;

  return {
    executions: executions.length,
    histogram,
    overlaps,
    liveReruns,
    missing,
    finishedUnworked,
    notFinal,
    failed: rows.filter((r) => r.status === "failed").map((r) => r.id),
    failedRows: rows.filter((r) => r.status === "failed"),
    cancelled: rows.filter((r) => r.status === "cancelled").map((r) => r.id),
    open: executions.filter((e) => e.endBy === "open"),
    statuses,
  };
}

/** ProcFacts from the harness's records of the processes it started. */
export function procFacts(
  procs: { pid: number; exitedAt?: number; exitCode?: number | null; ourSignals: { sig: string; t: number }[] }[],
): Map<number, ProcFacts> {
  return new Map(procs.map((p) => {
    const sigkillAt = p.ourSignals.find((s) => s.sig === "SIGKILL")?.t;
    const termed = p.ourSignals.some((s) => s.sig === "SIGTERM");
    const crashed = p.exitedAt !== undefined && sigkillAt === undefined && !(termed && p.exitCode === 0);
    return [p.pid, { pid: p.pid, exitedAt: p.exitedAt, sigkillAt, crashedAt: crashed ? p.exitedAt : undefined }];
  }));
}

/** One line per finding, for the report: which job, which processes, when. */
export function describeExecution(e: Execution, t0: number): string {
  const end = e.end === Infinity ? "open" : `${((e.end - t0) / 1000).toFixed(3)}s`;
  return `pid ${e.pid} attempt ${e.attempt} [${((e.start - t0) / 1000).toFixed(3)}s, ${end}] (${e.endBy}${e.how ? ` ${e.how}` : ""}${e.reason ? `/${e.reason}` : ""})`;
}
