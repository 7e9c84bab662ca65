// Text output for people: aligned tables and job summaries. JSON output is
// plain JSON.stringify of the same records.

import type { JobRecord } from "../handlers/types.ts";
import { formatDuration } from "../duration.ts";

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}

export function shortPrompt(job: JobRecord, width = 50): string {
  const prompt = typeof job.payload.prompt === "string" ? job.payload.prompt : JSON.stringify(job.payload);
  const flat = prompt.replace(/\s+/g, " ");
  return flat.length > width ? flat.slice(0, width - 1) + "…" : flat;
}

export function jobDuration(job: JobRecord): string {
  if (!job.startedAt) return "";
  const end = job.finishedAt ?? new Date();
  return formatDuration(end.getTime() - job.startedAt.getTime());
}

export function jobLines(job: JobRecord): string {
  const rows: [string, string][] = [
    ["id", job.id],
    ["kind", job.kind],
    ["queue", job.queue],
    ["priority", String(job.priority)],
    ["status", job.status + (job.cancelRequestedAt && job.status === "running" ? " (cancel requested)" : "")],
    ["attempts", `${job.attempts} of ${job.maxAttempts}`],
    ["run at", job.runAt.toISOString()],
    ["created", job.createdAt.toISOString()],
    ["started", job.startedAt?.toISOString() ?? ""],
    ["finished", job.finishedAt?.toISOString() ?? ""],
    ["duration", jobDuration(job)],
    ["worker", job.workerId === null ? "" : String(job.workerId)],
    ["concurrency key", job.concurrencyKey ?? ""],
  ];
  const lines = rows.filter(([, v]) => v !== "").map(([k, v]) => `${k.padEnd(16)}${v}`);
  lines.push("payload", indent(JSON.stringify(job.payload, null, 2)));
  if (job.result) lines.push("result", indent(JSON.stringify(job.result, null, 2)));
  for (const e of job.errors) lines.push(`error (attempt ${e.attempt}, ${e.at})`, indent(e.message));
  return lines.join("\n");
}

function indent(text: string): string {
  return text.split("\n").map((l) => "  " + l).join("\n");
}
