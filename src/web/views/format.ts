// Formatting helpers for the views: times, durations, short prompts, and the
// one escaping function every view uses for job data (`esc`). Pure: no I/O.

import { escapeHtml } from "@kitajs/html";
import type { JobRecord } from "../../handlers/types.ts";

/** Escapes any value for HTML text or attributes. Job data never reaches a view unescaped. */
export const esc = (value: unknown): string => escapeHtml(value === null || value === undefined ? "" : String(value));

/** The status shown to people: queued jobs due later are "scheduled". */
export function displayStatus(job: JobRecord, now = new Date()): string {
  return job.status === "queued" && job.runAt > now ? "scheduled" : job.status;
}

export function isFinal(job: JobRecord): boolean {
  return job.status === "finished" || job.status === "failed" || job.status === "cancelled";
}

/** 1234 -> "1.2s", 75_000 -> "1m 15s", 7_380_000 -> "2h 3m". */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return "–";
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${Math.floor(s % 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** Run time so far (running) or in total (ended); null before the first start. */
export function jobDurationMs(job: JobRecord, now = new Date()): number | null {
  if (!job.startedAt) return null;
  const end = job.status === "running" ? now : (job.finishedAt ?? null);
  return end ? end.getTime() - job.startedAt.getTime() : null;
}

/** "3m ago" / "in 5m" relative to now. */
export function relativeTime(date: Date | null, now = new Date()): string {
  if (!date) return "–";
  const diff = date.getTime() - now.getTime();
  const text = formatDuration(Math.abs(diff)).split(" ")[0]!;
  if (Math.abs(diff) < 1000) return "just now";
  return diff < 0 ? `${text} ago` : `in ${text}`;
}

/** ISO time in UTC, second precision, for title attributes and detail tables. */
export function isoTime(date: Date | null): string {
  return date ? date.toISOString().replace("T", " ").slice(0, 19) + " UTC" : "–";
}

/** The text a person recognizes a job by: its prompt, else its payload. */
export function jobLabel(job: JobRecord, max = 120): string {
  const prompt = typeof job.payload.prompt === "string" ? job.payload.prompt : JSON.stringify(job.payload);
  const flat = prompt.replace(/\s+/g, " ").trim();
  return flat.length > max ? flat.slice(0, max - 1) + "…" : flat;
}

/** The random tail of the id: UUIDv7 ids made close together share their first (time) digits. */
export const shortId = (id: string) => id.slice(-8);

export function formatUsd(value: unknown): string {
  return typeof value === "number" && Number.isFinite(value) ? `$${value.toFixed(value < 1 ? 4 : 2)}` : "–";
}
