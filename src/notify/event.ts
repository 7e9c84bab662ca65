// The JSON of an event, as webhooks and the notify command get it: what the
// job is, how it ended, the Claude run's summary (the result text bounded),
// the worktree's branch, and a link to the job page when a public URL of
// the dashboard is known. Built from the outbox row (status and error as
// they were at the event) and the job's row (its result), which may be gone.

import type { JobRecord } from "../handlers/types.ts";

/** The Claude result text is cut to this many characters (the job page has all of it). */
export const RESULT_TEXT_MAX = 2000;

export interface EventBody {
  /** job.finished, job.failed, job.cancelled, job.parked */
  event: string;
  occurred_at: string;
  job: {
    id: string;
    kind: string;
    queue: string;
    status: string;
    attempt: number | null;
    max_attempts: number | null;
    error: string | null;
    created_at: string | null;
    started_at: string | null;
    finished_at: string | null;
    /** The job page, when a public URL is configured. */
    url: string | null;
  };
  /** Claude jobs: the run's summary; null for other kinds. */
  claude: {
    result: string | null;
    cost_usd: number | null;
    turns: number | null;
    session_id: string | null;
    is_error: boolean | null;
    subtype: string | null;
  } | null;
  /** Worktree jobs: the branch holding the work. */
  worktree: { branch: string; changed: boolean | null } | null;
  /** What the event adds (parked: until when, why). */
  detail: Record<string, unknown>;
}

export interface EventFacts {
  jobId: string;
  event: string;
  kind: string;
  queue: string;
  /** The job's status and error at the event. */
  status: string;
  error: string | null;
  occurredAt: Date;
  detail?: Record<string, unknown>;
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);
const str = (v: unknown) => (typeof v === "string" ? v : null);

export function jobUrl(publicUrl: string | null, jobId: string): string | null {
  return publicUrl ? `${publicUrl.replace(/\/+$/, "")}/jobs/${jobId}` : null;
}

export function eventBody(facts: EventFacts, job: JobRecord | null, publicUrl: string | null): EventBody {
  const r = job?.result ?? null;
  const text = str(r?.result);
  const worktree = r?.worktree && typeof r.worktree === "object" ? (r.worktree as Record<string, unknown>) : null;
  const branch = str(worktree?.branch);
  return {
    event: `job.${facts.event}`,
    occurred_at: facts.occurredAt.toISOString(),
    job: {
      id: facts.jobId, kind: facts.kind, queue: facts.queue, status: facts.status,
      attempt: job?.attempts ?? null, max_attempts: job?.maxAttempts ?? null, error: facts.error,
      created_at: iso(job?.createdAt), started_at: iso(job?.startedAt), finished_at: iso(job?.finishedAt),
      url: jobUrl(publicUrl, facts.jobId),
    },
    claude: facts.kind === "claude" && r ? {
      result: text === null ? null : text.length > RESULT_TEXT_MAX ? `${text.slice(0, RESULT_TEXT_MAX)}…` : text,
      cost_usd: num(r.totalCostUsd), turns: num(r.numTurns), session_id: str(r.sessionId),
      is_error: typeof r.isError === "boolean" ? r.isError : null, subtype: str(r.subtype),
    } : null,
    worktree: branch ? { branch, changed: typeof worktree?.changed === "boolean" ? worktree.changed : null } : null,
    detail: facts.detail ?? {},
  };
}
