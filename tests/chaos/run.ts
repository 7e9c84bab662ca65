// `bun run chaos`: the fault suite. Every scenario runs on a private
// PostgreSQL of its own (never the machine's server on 5432), prints its
// verdict (a JSON line and a table) and fails the run when a target is missed.
//
//   bun run chaos                      everything (about 4 minutes on 2 cores)
//   bun run chaos main --jobs=2000     one scenario, scaled (pg-outage and backend-cut take at most 50, claude-kill 10)
//   bun run chaos --short              main with 2,000 jobs, backend-cut and claude-kill shortened (under a minute)
//   bun run chaos selfcheck            only the verdict's own check (planted faults must be caught)
// Scenarios: main (1), pg-down-at-start (2), pg-outage (3), backend-cut (4), claude-kill (5), memory (6).
// Exit: 0 all targets met, 1 a target missed, 2 the harness itself failed.

import { log, Run, sweepDeadRuns } from "./harness.ts";
import { main } from "./scenarios/main.ts";
import { pgDownAtStart } from "./scenarios/pg-down-at-start.ts";
import { pgOutage } from "./scenarios/pg-outage.ts";
import { backendCut } from "./scenarios/backend-cut.ts";
import { claudeKill } from "./scenarios/claude-kill.ts";
import { memory } from "./scenarios/memory.ts";
import { selfcheck } from "./selfcheck.ts";
import type { Verdict } from "./verdict.ts";

interface Options {
  short: boolean;
  /** --jobs=N: scales the scenario's main job count. */
  jobs?: number;
}

type ScenarioFn = (run: Run, o: Options) => Promise<Verdict>;

// --jobs scales each scenario's job count, capped where every job is a
// long-lived slot (scenarios 3, 4) or a process tree of its own (5).
const scaled = (o: Options, fallback: number, cap = Infinity) => Math.min(o.jobs ?? fallback, cap);
const SCENARIOS: Record<string, { alias: string; fn: ScenarioFn }> = {
  main: { alias: "1", fn: (run, o) => main(run, { jobs: scaled(o, o.short ? 2000 : 20_000), short: o.short }) },
  "pg-down-at-start": { alias: "2", fn: (run, o) => pgDownAtStart(run, { jobs: scaled(o, 20) }) },
  "pg-outage": { alias: "3", fn: (run, o) => pgOutage(run, { jobs: scaled(o, 8, 50), downMs: 30_000, jobMs: 10_000 }) },
  "backend-cut": { alias: "4", fn: (run, o) => backendCut(run, { jobs: scaled(o, o.short ? 4 : 8, 50), jobMs: o.short ? 5000 : 10_000 }) },
  "claude-kill": { alias: "5", fn: (run, o) => claudeKill(run, { jobs: scaled(o, o.short ? 2 : 3, 10), short: o.short }) },
  memory: { alias: "6", fn: (run, o) => memory(run, { noop: o.jobs ?? 100_000, claude: Math.max(20, Math.round((o.jobs ?? 100_000) / 100)) }) },
};
const SHORT = ["main", "backend-cut", "claude-kill"];

function usage(): never {
  console.error(`usage: bun run chaos [--short] [--jobs=N] [selfcheck | ${Object.entries(SCENARIOS).map(([n, s]) => `${n}|${s.alias}`).join(" ")}]`);
  process.exit(2);
}

function parse(argv: string[]): { names: string[]; options: Options } {
  const options: Options = { short: false };
  const names: string[] = [];
  for (const arg of argv) {
    if (arg === "--short") options.short = true;
    else if (arg.startsWith("--jobs=")) {
      const n = Number(arg.slice(7));
      if (!Number.isInteger(n) || n < 1) usage();
      options.jobs = n;
    } else if (arg === "-h" || arg === "--help") usage();
    else if (arg === "selfcheck") names.push(arg);
    else {
      const name = Object.entries(SCENARIOS).find(([n, s]) => n === arg || s.alias === arg)?.[0];
      if (!name) usage();
      names.push(name);
    }
  }
  if (names.length === 0) names.push(...(options.short ? SHORT : Object.keys(SCENARIOS)));
  return { names, options };
}

const { names, options } = parse(process.argv.slice(2));

// The verdict's own check comes first, always: a harness that cannot fail is worthless.
const self = selfcheck();
if (names.includes("selfcheck") || !self.pass) {
  self.print();
  if (!self.pass || names.every((n) => n === "selfcheck")) process.exit(self.pass ? 0 : 2);
}

for (const swept of sweepDeadRuns()) log(`stopped what an earlier, dead run left: ${swept}`);
const run = Run.create();
log(`run folder ${run.dir} (logs kept, the last 5 runs'; clusters removed at the end)`);

let exiting = false;
async function leave(code: number, why: string): Promise<never> {
  if (!exiting) {
    exiting = true;
    log(`${why}: stopping everything we started`);
    await run.cleanup().catch((e) => log(`cleanup: ${(e as Error).message}`));
  }
  process.exit(code);
}
process.on("SIGINT", () => void leave(130, "interrupted"));
process.on("SIGTERM", () => void leave(143, "terminated"));
process.on("exit", () => run.killLeftovers()); // last resort, synchronous: nothing of ours outlives us

const verdicts: { name: string; verdict: Verdict | null; seconds: number; error?: string }[] = [];
try {
  for (const name of names.filter((n) => n !== "selfcheck")) {
    const started = performance.now();
    log(`scenario ${name}${options.short ? " (short)" : ""} starting`);
    try {
      const verdict = await SCENARIOS[name]!.fn(run, options);
      verdict.figure("scenario seconds", Math.round((performance.now() - started) / 1000));
      verdict.print();
      verdicts.push({ name, verdict, seconds: (performance.now() - started) / 1000 });
    } catch (e: unknown) {
      // The harness failed, not the engine: say so, and go on with the next scenario.
      const error = (e as Error).stack ?? String(e);
      log(`scenario ${name}: harness error: ${error}`);
      console.log(JSON.stringify({ scenario: name, pass: false, harnessError: (e as Error).message }));
      verdicts.push({ name, verdict: null, seconds: (performance.now() - started) / 1000, error: (e as Error).message });
    } finally {
      await run.closeOpen();
    }
  }
} finally {
  await run.cleanup();
}

console.log("== summary");
for (const v of verdicts) {
  const state = v.verdict ? (v.verdict.pass ? "PASS" : `FAIL  missed: ${v.verdict.missed.join(", ")}`) : `ERROR ${v.error}`;
  console.log(`  ${v.name.padEnd(17)} ${String(Math.round(v.seconds)).padStart(5)} s  ${state}`);
}
console.log(`  run folder: ${run.dir}`);
const code = verdicts.some((v) => v.verdict === null) ? 2 : verdicts.every((v) => v.verdict!.pass) ? 0 : 1;
process.exit(code);
