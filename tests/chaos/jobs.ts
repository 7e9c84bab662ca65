// Jobs from the harness's side: enqueueing that survives a database crash
// without ever counting a job it cannot prove was committed, the table as it
// is at the end, and waiting for the queue to drain.

import type { Sql } from "../../src/db/connect.ts";
import { jobInsertMany, type JobInsert } from "../../src/db/jobs.ts";
import { analyze, buildExecutions, describeExecution, procFacts, readExecLines, type Findings, type JobRow } from "./analyze.ts";
import type { Scenario } from "./harness.ts";
import type { Verdict } from "./verdict.ts";

/** Attempts per job: a `chaos` job never fails by itself, so only faults can use them up. */
export const MAX_ATTEMPTS = 10;

export function chaosJob(ms: number, extra: Partial<JobInsert> = {}): JobInsert {
  return { id: Bun.randomUUIDv7(), kind: "chaos", queue: "default", priority: 0, payload: { ms }, runAt: null, delayMs: 0,
    maxAttempts: MAX_ATTEMPTS, concurrencyKey: null, concurrencyLimit: 1, uniqueKey: null, uniqueStates: null, after: [],
    status: "queued", ...extra };
}

/**
 * Inserts a batch, retrying through outages. A job counts as enqueued only
 * when the insert returned, or when a retry of the same ids finds them there
 * (the first try committed but its answer was lost): a unique violation.
 * Gives up (returns false) after `timeoutMs`.
 */
export async function enqueueDurably(sql: Sql, jobs: JobInsert[], timeoutMs = 120_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let tries = 0;
  for (;;) {
    tries++;
    try {
      await jobInsertMany(sql, jobs);
      return true;
    } catch (e: unknown) {
      if ((e as { code?: string }).code === "23505" && tries > 1) {
        // All or none: the batch is one statement, so one id present means all are.
        const [row] = await sql`SELECT count(*)::int AS n FROM claude_jobs WHERE id = ANY(${jobs.map((j) => j.id)}::uuid[])`.catch(() => [{ n: -1 }]);
        if (row!.n === jobs.length) return true;
      }
      if (Date.now() > deadline) return false;
      await Bun.sleep(250);
    }
  }
}

export async function jobRows(sql: Sql): Promise<JobRow[]> {
  return (await sql`SELECT id::text, status::text, attempts, error FROM claude_jobs`) as unknown as JobRow[];
}

/** Counts of jobs not yet final (queued, scheduled or running); null while the database does not answer. */
export async function unfinished(sql: Sql): Promise<number | null> {
  try {
    const [row] = await sql`SELECT count(*)::int AS n FROM claude_jobs WHERE status IN ('queued', 'running')`;
    return row!.n as number;
  } catch {
    return null;
  }
}

export async function finalCount(sql: Sql): Promise<number | null> {
  try {
    const [row] = await sql`SELECT count(*)::int AS n FROM claude_jobs WHERE status IN ('finished', 'failed', 'cancelled')`;
    return row!.n as number;
  } catch {
    return null;
  }
}

/** Waits until every job is final; returns when (ms, wall clock), or null on timeout. */
export async function waitDrained(sql: Sql, timeoutMs: number): Promise<number | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await unfinished(sql)) === 0) return performance.timeOrigin + performance.now();
    await Bun.sleep(200);
  }
  return null;
}

/** Reads every record of the scenario and analyzes it against the table. */
export async function findings(s: Scenario, enqueued: string[]): Promise<Findings> {
  const procs = procFacts(s.procs);
  const executions = buildExecutions(readExecLines(s.execDir), procs);
  return analyze({ executions, procs, rows: await jobRows(s.sql), enqueued });
}

/** Executions still open (no end line, process alive) right now. */
export function openNow(s: Scenario) {
  return buildExecutions(readExecLines(s.execDir), procFacts(s.procs)).filter((e) => e.endBy === "open");
}

/**
 * The checks every scenario shares: nothing lost, all final, no overlap, no
 * re-run of a job whose worker lived, no crash; and notes naming examples.
 */
export async function commonChecks(v: Verdict, f: Findings, s: Scenario, t0: number, leftRunning: number): Promise<void> {
  v.figure("jobs", f.histogram ? Object.values(f.histogram).reduce((a, b) => a + b, 0) : 0);
  v.figure("executions", f.executions);
  v.figure("executions per job", f.histogram);
  v.figure("final states", f.statuses);
  v.zero("lost", f.missing.length + f.finishedUnworked.length);
  v.zero("not final", f.notFinal.length);
  v.zero("failed", f.failed.length);
  v.zero("overlapping pairs", f.overlaps.length);
  v.zero("re-runs, worker alive", f.liveReruns.length);
  v.zero("worker crashes", s.crashes.length);
  v.zero("left running", leftRunning);
  const strays = await s.settledStrays();
  v.zero("stray processes at the end", strays.length);
  for (const p of strays.slice(0, 3)) v.note(`stray process: pid ${p.pid} ${p.cmdline.slice(0, 100)}`);
  for (const id of f.missing.slice(0, 5)) v.note(`lost: ${id} was enqueued (the insert returned) but is not in the table`);
  for (const id of f.finishedUnworked.slice(0, 5)) v.note(`lost: ${id} is finished, yet no execution of it completed`);
  for (const o of f.overlaps.slice(0, 5)) {
    v.note(`overlap: job ${o.job}: ${describeExecution(o.a, t0)} and ${describeExecution(o.b, t0)}`);
  }
  for (const r of f.liveReruns.slice(0, 5)) {
    v.note(`re-run while its worker lived: job ${r.job}: ${describeExecution(r.previous, t0)} then ${describeExecution(r.rerun, t0)}`);
  }
  for (const n of f.notFinal.slice(0, 3)) v.note(`not final: ${n.id} is ${n.status}`);
  const failures = new Map<string, number>();
  for (const r of f.failedRows) failures.set((r.error ?? "no error").slice(0, 200), (failures.get((r.error ?? "no error").slice(0, 200)) ?? 0) + 1);
  for (const [error, n] of failures) v.note(`failed x${n}: ${error}`);
  const causes = new Map<string, number>();
  for (const c of s.crashes) {
    const key = `code ${c.code}${c.signal ? ` signal ${c.signal}` : ""}: ${c.why}`;
    causes.set(key, (causes.get(key) ?? 0) + 1);
  }
  for (const [why, n] of causes) v.note(`crash x${n}: ${why}`);
}
