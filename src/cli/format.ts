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

/** The status shown to people: a queued job due later is "scheduled" (the column still says queued). */
export function shownStatus(job: JobRecord, now = new Date()): string {
  return job.status === "queued" && job.runAt > now ? "scheduled" : job.status;
}

/**
 * How long the job ran (or has been running). A queued job has no duration:
 * its started_at, when set, belongs to an earlier attempt (put back at a
 * worker's shutdown, or retried), not to the job as it is now.
 */
export function jobDuration(job: JobRecord): string {
  if (!job.startedAt || job.status === "queued") return "";
  const end = job.finishedAt ?? new Date();
  return formatDuration(end.getTime() - job.startedAt.getTime());
}

export function jobLines(job: JobRecord): string {
  const rows: [string, string][] = [
    ["id", job.id],
    ["kind", job.kind],
    ["queue", job.queue],
    ["priority", String(job.priority)],
    ["status", shownStatus(job) + (job.cancelRequestedAt && job.status === "running" ? " (cancel requested)" : "")],
    ["attempts", `${job.attempts} of ${job.maxAttempts}`],
    ["run at", job.runAt.toISOString()],
    ["created", job.createdAt.toISOString()],
    // A queued job's started_at is its last attempt's, not its own.
    [job.status === "queued" ? "last started" : "started", job.startedAt?.toISOString() ?? ""],
    ["finished", job.finishedAt?.toISOString() ?? ""],
    ["duration", jobDuration(job)],
    ["worker", job.workerId === null ? "" : String(job.workerId)],
    ["concurrency key", job.concurrencyKey ?? ""],
  ];
  const lines = rows.filter(([, v]) => v !== "").map(([k, v]) => `${k.padEnd(16)}${v}`);
  lines.push("payload", indent(JSON.stringify(job.payload, null, 2)));
  if (job.result && isClaudeResult(job.result)) lines.push("claude", indent(claudeLines(job.result)));
  else if (job.result) lines.push("result", indent(JSON.stringify(job.result, null, 2)));
  for (const e of job.errors) lines.push(`error (attempt ${e.attempt}, ${e.at})`, indent(e.message));
  return lines.join("\n");
}

/** A Claude run's summary (the claude handler's result shape), as opposed to any handler's JSON. */
function isClaudeResult(r: Record<string, unknown>): boolean {
  return "sessionId" in r && "totalCostUsd" in r && "exitCode" in r;
}

/** Session, outcome, turns, duration, cost, tokens, logs; then the result text. */
export function claudeLines(r: Record<string, unknown>): string {
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);
  const usage = (r.usage ?? {}) as Record<string, unknown>;
  const tokens = ["input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"]
    .filter((k) => num(usage[k]) !== null)
    .map((k) => `${k.replace(/_input_tokens$|_tokens$/, "").replace(/_/g, " ")} ${usage[k]}`);
  const cost = num(r.totalCostUsd);
  const ms = num(r.durationMs);
  const exit = r.signal ? `killed by ${r.signal}` : r.exitCode === null ? "" : `exit ${r.exitCode}`;
  const rows: [string, string][] = [
    ["session", String(r.sessionId ?? "")],
    ["model", String(r.model ?? "")],
    ["outcome", [r.subtype ?? "no result", r.isError === true ? "is_error: true" : r.isError === false ? "is_error: false" : "", exit]
      .filter(Boolean).join(", ")],
    ["turns", num(r.numTurns) === null ? "" : String(r.numTurns)],
    ["duration", ms === null ? "" : formatDuration(ms)],
    ["cost", cost === null ? "" : `$${cost.toFixed(4)} USD`],
    ["tokens", tokens.join(", ")],
    ["api retries", num(r.apiRetries) ? String(r.apiRetries) : ""],
    ["stdout log", String(r.stdoutLog ?? "")],
    ["stderr log", String(r.stderrLog ?? "")],
  ];
  const lines = rows.filter(([, v]) => v !== "").map(([k, v]) => `${k.padEnd(14)}${v}`);
  const text = typeof r.result === "string" ? r.result : Array.isArray(r.errors) ? r.errors.join("; ") : "";
  if (text) lines.push("result", indent(text));
  return lines.join("\n");
}

function indent(text: string): string {
  return text.split("\n").map((l) => "  " + l).join("\n");
}
