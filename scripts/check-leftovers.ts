// CI's last step: the suite must leave nothing running. Lists the processes
// that belong to this checkout (their executable, command line or working
// folder is inside it: a worker, the fake claude, a server, an embedded
// PostgreSQL run from node_modules) or to a job (CLAUDE_JOBS_OWNER in their
// environment, the job guard), other than this process and its ancestors.
// Waits a few seconds for stragglers to exit, then exits 1 naming them.
//
//   bun scripts/check-leftovers.ts [checkout folder, default: this repo]

import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import { resolve } from "node:path";

const root = resolve(process.argv[2] ?? resolve(import.meta.dir, ".."));

function read(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

function link(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return "";
  }
}

function ancestors(): Set<number> {
  const out = new Set<number>();
  for (let pid = process.pid; pid > 1; ) {
    out.add(pid);
    const stat = read(`/proc/${pid}/stat`);
    if (!stat) break;
    pid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  }
  return out;
}

function leftovers(): string[] {
  const mine = ancestors();
  const found: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || mine.has(Number(entry))) continue;
    const stat = read(`/proc/${entry}/stat`);
    if (!stat || /^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2))) continue;
    const cmdline = (read(`/proc/${entry}/cmdline`) ?? "").split("\0").join(" ").trim();
    const environ = read(`/proc/${entry}/environ`) ?? "";
    const inCheckout = [link(`/proc/${entry}/exe`), link(`/proc/${entry}/cwd`), cmdline].some((s) => s.includes(root));
    const ofAJob = environ.split("\0").some((v) => v.startsWith("CLAUDE_JOBS_OWNER=")) || cmdline.includes("claude-jobs-guard");
    if (inCheckout || ofAJob) found.push(`${entry}: ${cmdline.slice(0, 200)}`);
  }
  return found;
}

let found = leftovers();
for (let i = 0; i < 10 && found.length > 0; i++) {
  await Bun.sleep(500);
  found = leftovers();
}
if (found.length > 0) {
  console.error(`the suite left ${found.length} process(es) running:\n${found.join("\n")}`);
  process.exit(1);
}
console.log("nothing left running");
