// The verdict checks itself: planted records (overlaps, re-runs of jobs
// whose worker lived, an execution cut by SIGKILL that does and one that does
// not overlap its rescue, a crash, a lost job, jobs finished without their
// work, one left running, one not final) must give exactly the findings planted, and a
// clean history none. Runs before every scenario run; `bun run chaos
// selfcheck` prints it.

import { analyze, buildExecutions, type ExecLine, type JobRow, type ProcFacts } from "./analyze.ts";
import { Verdict } from "./verdict.ts";

const start = (job: string, pid: number, t: number, attempt = 1): ExecLine => ({ ev: "start", job, attempt, pid, t });
const end = (job: string, pid: number, t: number, attempt = 1, how: ExecLine["how"] = "done", reason?: string): ExecLine =>
  ({ ev: "end", job, attempt, pid, t, how, reason });

export function selfcheck(): Verdict {
  const v = new Verdict("selfcheck");
  const lines: ExecLine[] = [
    // A: two processes run it at once, both end normally: one overlap, and a live re-run.
    start("A", 1, 100), end("A", 1, 300), start("A", 2, 200, 2), end("A", 2, 400, 2),
    // B: pid 3 SIGKILLed at 150, rescued into pid 4 at 200: clean.
    start("B", 3, 100), start("B", 4, 200, 2), end("B", 4, 250, 2),
    // C: pid 5 SIGKILLed only at 300, but already re-run in pid 6 at 200: overlap (the kill ends it at 300).
    start("C", 5, 100), start("C", 6, 200, 2), end("C", 6, 250, 2),
    // D: done at 150 in pid 7, which lives on; run again in pid 8 at 400: a live re-run, no overlap.
    start("D", 7, 100), end("D", 7, 150), start("D", 8, 400, 2), end("D", 8, 450, 2),
    // G: open in live pid 9 (no end line), and run again in pid 10: overlap with an open execution.
    start("G", 9, 100), start("G", 10, 500, 2), end("G", 10, 550, 2),
    // I: put back by a graceful stop (reason shutdown) in live pid 11, re-run in pid 12: legitimate.
    start("I", 11, 100), end("I", 11, 120, 1, "aborted", "shutdown"), start("I", 12, 300), end("I", 12, 350),
    // J: the worker lost its lock and stopped the job itself (pid 13 lives), then it ran again in the same process.
    start("J", 13, 100), end("J", 13, 120, 1, "aborted", "lost_ownership"), start("J", 13, 300, 2), end("J", 13, 350, 2),
    // K: pid 14 crashed (exited by itself) at 130 mid-run; re-run in pid 15: no overlap, not a live re-run.
    start("K", 14, 100), start("K", 15, 200, 2), end("K", 15, 260, 2),
    // M: done at 150 in pid 17, which then left cleanly after our SIGTERM (at 200) without writing it; re-run in pid 18 at 300: a live re-run.
    start("M", 17, 100), end("M", 17, 150), start("M", 18, 300, 2), end("M", 18, 350, 2),
    // L: its only execution was stopped, yet the table says finished: lost work.
    start("L", 16, 100), end("L", 16, 120, 1, "aborted", "lost_ownership"),
    // H: one clean run, but still queued in the table.
    start("H", 15, 300), end("H", 15, 320),
  ];
  const procs = new Map<number, ProcFacts>([
    [3, { pid: 3, sigkillAt: 150, exitedAt: 151 }],
    [5, { pid: 5, sigkillAt: 300, exitedAt: 301 }],
    [14, { pid: 14, exitedAt: 130, crashedAt: 130 }],
    [17, { pid: 17, exitedAt: 200 }],
  ]);
  const rows: JobRow[] = ["A", "B", "C", "D", "E", "G", "I", "J", "K", "L", "M"].map((id) => ({ id, status: "finished", attempts: 1 }));
  rows.push({ id: "H", status: "queued", attempts: 1 });
  const enqueued = ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M"];
  const executions = buildExecutions(lines, procs);
  const f = analyze({ executions, procs, rows, enqueued });

  const overlapped = f.overlaps.map((o) => o.job).sort().join(",");
  const reran = f.liveReruns.map((r) => r.job).sort().join(",");
  v.check("overlapping jobs found", overlapped, "A,C,G", overlapped === "A,C,G");
  // C too: its worker was still alive (SIGKILLed only later) when the job started again.
  v.check("live re-runs found", reran, "A,C,D,G,J,M", reran === "A,C,D,G,J,M");
  v.check("missing from the table", f.missing.join(","), "F", f.missing.join(",") === "F");
  v.check("finished without a completed execution", f.finishedUnworked.sort().join(","), "E,L",
    f.finishedUnworked.sort().join(",") === "E,L");
  v.check("not final", f.notFinal.map((n) => n.id).join(","), "H", f.notFinal.map((n) => n.id).join(",") === "H");
  v.check("open executions", f.open.map((e) => e.job).join(","), "G", f.open.map((e) => e.job).join(",") === "G");
  const b = executions.find((e) => e.job === "B" && e.pid === 3);
  v.check("SIGKILL ends an execution at the kill", b ? `${b.endBy}@${b.end}` : "none", "sigkill@150", b?.endBy === "sigkill" && b.end === 150);
  const k = executions.find((e) => e.job === "K" && e.pid === 14);
  v.check("a crash ends it at the exit", k ? `${k.endBy}@${k.end}` : "none", "exit@130", k?.endBy === "exit" && k.end === 130);
  v.check("executions per job", JSON.stringify(f.histogram), `{"0":2,"1":2,"2":9}`, JSON.stringify(f.histogram) === `{"0":2,"1":2,"2":9}`);

  // A clean history: one run per job, a kill followed by a rescue after it: no findings at all.
  const clean = analyze({
    executions: buildExecutions([start("X", 1, 0), end("X", 1, 10), start("Y", 2, 0), start("Y", 3, 50, 2), end("Y", 3, 60, 2)],
      new Map([[2, { pid: 2, sigkillAt: 20, exitedAt: 21 }]])),
    procs: new Map([[2, { pid: 2, sigkillAt: 20, exitedAt: 21 }]]),
    rows: [{ id: "X", status: "finished", attempts: 1 }, { id: "Y", status: "finished", attempts: 2 }],
    enqueued: ["X", "Y"],
  });
  const noise = clean.overlaps.length + clean.liveReruns.length + clean.missing.length + clean.finishedUnworked.length
    + clean.notFinal.length + clean.open.length;
  v.zero("findings in a clean history", noise);
  return v;
}
