// A job's diff as terminal text: the stat, then each file's hunks, then the
// commands to take the branch. Colours only when asked (a terminal, no
// NO_COLOR); every piece of the repository's data (names, lines, function
// context) goes through visible() first, so no control sequence of it is
// ever sent, and a file name with a newline or a control character in it is
// printed quoted, on one line. Our own colour sequences are added after.

import type { BranchDiff, DiffFile, ReadyDiff } from "../git/diff.ts";
import { mergeCommands, shellWord } from "../git/diff.ts";
import { jsonText, visible } from "./terminal.ts";

export interface Paint {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  cyan(s: string): string;
}

const sgr = (code: string) => (s: string) => (s === "" ? s : `\x1b[${code}m${s}\x1b[0m`);
export const COLOR: Paint = { bold: sgr("1"), dim: sgr("2"), red: sgr("31"), green: sgr("32"), cyan: sgr("36") };
const same = (s: string) => s;
export const PLAIN: Paint = { bold: same, dim: same, red: same, green: same, cyan: same };

/**
 * Colours on a terminal, off when piped, when NO_COLOR is set (no-color.org:
 * any non-empty value) or TERM is dumb; `--color=always|never` decides instead.
 */
export function wantColor(flag: string | undefined, isTTY: boolean, env: Readonly<Record<string, string | undefined>>): boolean {
  if (flag === "always") return true;
  if (flag === "never") return false;
  return isTTY && !env.NO_COLOR && env.TERM !== "dumb";
}

/** Characters that would break a one-line name: the controls, and what visible() escapes. */
const UNSAFE_NAME = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** A file name on one line: as is, or as a JSON string when it holds a control character. */
export function nameText(name: string): string {
  return UNSAFE_NAME.test(name) ? jsonText(name) : name;
}

function fileLabel(f: DiffFile): string {
  return f.oldPath !== null ? `${nameText(f.oldPath)} => ${nameText(f.path)}` : nameText(f.path);
}

const BAR_WIDTH = 40;

/** The stat block: one line per file, then the totals. */
export function statLines(d: ReadyDiff, paint: Paint): string[] {
  const labels = d.files.map(fileLabel);
  const width = Math.min(60, Math.max(0, ...labels.map((l) => l.length)));
  const most = Math.max(1, ...d.files.map((f) => f.insertions + f.deletions));
  const lines = d.files.map((f, i) => {
    const changes = f.insertions + f.deletions;
    // As git's --stat: one mark per line, scaled down only when the largest file would not fit.
    const bar = most <= BAR_WIDTH ? changes : Math.max(changes > 0 ? 1 : 0, Math.round((changes / most) * BAR_WIDTH));
    const plus = Math.round(bar * (changes ? f.insertions / changes : 0));
    const count = f.binary ? "Bin" : String(changes).padStart(4);
    return ` ${labels[i]!.padEnd(width)} | ${count} ${paint.green("+".repeat(plus))}${paint.red("-".repeat(bar - plus))}`;
  });
  if (d.unlistedFiles > 0) lines.push(` … and ${d.unlistedFiles} more file${d.unlistedFiles === 1 ? "" : "s"}`);
  lines.push(` ${totalsText(d)}`);
  return lines;
}

export function totalsText(d: ReadyDiff): string {
  const t = d.totals;
  return `${t.files} file${t.files === 1 ? "" : "s"} changed, ${t.insertions} insertion${t.insertions === 1 ? "" : "s"}(+), ` +
    `${t.deletions} deletion${t.deletions === 1 ? "" : "s"}(-)`;
}

function fileLines(f: DiffFile, paint: Paint, patchHint: string): string[] {
  const mode = f.oldMode !== f.newMode && f.status !== "added" && f.status !== "deleted" ? ` (mode ${f.oldMode} => ${f.newMode})` : "";
  const similarity = f.similarity !== null ? ` (${f.similarity}% similar)` : "";
  const out = [paint.bold(`── ${f.status} ${visible(fileLabel(f))}${similarity}${mode}`)];
  if (f.binary) out.push(paint.dim("   binary file: no text diff"));
  if (f.cut === "file-too-large") out.push(paint.dim(`   too large to show here; ${patchHint}`));
  if (f.cut === "total-limit") out.push(paint.dim(`   not shown: the diff is over the size shown at once; ${patchHint}`));
  for (const h of f.hunks) {
    out.push(paint.cyan(h.range) + (h.context ? ` ${visible(h.context)}` : ""));
    for (const l of h.lines) {
      const text = visible(l.text);
      if (l.kind === "add") out.push(paint.green(`+${text}`));
      else if (l.kind === "del") out.push(paint.red(`-${text}`));
      else if (l.kind === "note") out.push(paint.dim(text));
      else out.push(` ${text}`);
    }
  }
  return out;
}

/** The whole human view of a job's diff. */
export function diffText(jobId: string, d: BranchDiff, paint: Paint, options: { statOnly?: boolean } = {}): string {
  const patchHint = `the whole patch: claude-jobs diff ${jobId} --patch`;
  if (d.state === "unavailable") return `No diff for job ${jobId}: ${visible(d.reason)}`;
  const r = d.record;
  const head = [`${paint.bold(`Job ${jobId}`)}  branch ${visible(nameText(r.branch))}  in ${visible(nameText(r.repository))}`];
  if (d.state === "discarded") {
    head.push(`The branch is gone: the job's work was discarded (claude-jobs discard), or the branch was deleted. Nothing to show.`);
    return head.join("\n");
  }
  const moved = r.headCommit !== null && r.headCommit !== d.tipCommit ? ` (the branch moved on from this job's ${r.headCommit.slice(0, 10)})` : "";
  head.push(`base ${r.baseCommit.slice(0, 10)}  tip ${d.tipCommit.slice(0, 10)}${moved}`);
  head.push(d.worktreePresent ? `worktree ${visible(nameText(r.path))}` : "worktree folder pruned; the branch keeps the changes");
  if (d.snapshotTree) head.push("The job is running: its worktree as it is now, uncommitted work included (files copied in left out).");
  const out = [...head, ""];
  if (d.totals.files === 0) out.push(r.changed === false ? "The run changed nothing." : "No changes between the base and the branch.");
  else out.push(...statLines(d, paint));
  if (!options.statOnly) for (const f of d.files) out.push("", ...fileLines(f, paint, patchHint));
  if (d.cut) out.push("", paint.dim(`Part of this diff is not shown; ${patchHint}`));
  out.push("", ...takeCommands(jobId, r));
  return out.join("\n");
}

/** What the user may do next: merge or push (never done by claude-jobs), follow up, discard. */
export function takeCommands(jobId: string, r: { repository: string; branch: string }): string[] {
  const c = mergeCommands(r);
  return [
    "To take the changes (claude-jobs never merges or pushes):",
    `  ${visible(c.merge)}`,
    `  ${visible(c.push)}`,
    `More work on the branch: claude-jobs follow-up ${jobId} ${shellWord("<prompt>")}`,
    `Throw it away: claude-jobs discard ${jobId}`,
  ];
}
