// Body templates, for receivers that want their own JSON (Slack's and
// Discord's incoming webhooks take {"text": ...} / {"content": ...}): a JSON
// text in which {{name}} is replaced by the event's value, JSON-escaped, so
// that a value with quotes or newlines can never break out of its string.
// No logic, no loops: a receiver that needs more gets the full event.

import { InputError } from "../errors.ts";
import type { EventBody } from "./event.ts";

const MAX_TEMPLATE = 10_000;
const PLACEHOLDER = /\{\{\s*([a-z_]+)\s*\}\}/g;

/** The names a template may use, and where each comes from in the event. */
export const TEMPLATE_FIELDS: Record<string, (e: EventBody) => unknown> = {
  event: (e) => e.event,
  id: (e) => e.job.id,
  kind: (e) => e.job.kind,
  queue: (e) => e.job.queue,
  status: (e) => e.job.status,
  error: (e) => e.job.error,
  attempt: (e) => e.job.attempt,
  url: (e) => e.job.url,
  occurred_at: (e) => e.occurred_at,
  result: (e) => e.claude?.result,
  cost_usd: (e) => e.claude?.cost_usd,
  turns: (e) => e.claude?.turns,
  session_id: (e) => e.claude?.session_id,
  branch: (e) => e.worktree?.branch,
};

/** Renders the template for an event; a missing value is the empty text. */
export function renderTemplate(template: string, event: EventBody): string {
  return template.replace(PLACEHOLDER, (_m, name: string) => {
    const value = TEMPLATE_FIELDS[name]?.(event);
    const text = value === null || value === undefined ? "" : String(value);
    return JSON.stringify(text).slice(1, -1);
  });
}

const SAMPLE: EventBody = {
  event: "job.failed", occurred_at: "2026-01-01T00:00:00.000Z",
  job: {
    id: "00000000-0000-4000-8000-000000000000", kind: "claude", queue: "default", status: "failed", attempt: 1, max_attempts: 3,
    error: "a \"quoted\"\nerror", created_at: null, started_at: null, finished_at: null, url: "https://example.com/jobs/x",
  },
  claude: { result: "text", cost_usd: 0.1, turns: 2, session_id: "s", is_error: false, subtype: "success" },
  worktree: { branch: "claude-jobs/x", changed: true }, detail: {},
};

/** Checks a template: known names only, and JSON once rendered. */
export function validateTemplate(field: string, value: unknown): string {
  if (typeof value !== "string" || value.trim() === "" || value.length > MAX_TEMPLATE) {
    throw new InputError(field, `must be a JSON text of 1-${MAX_TEMPLATE} characters, like '{"text":"{{status}}: {{queue}} job {{id}}"}'`);
  }
  for (const [, name] of value.matchAll(PLACEHOLDER)) {
    if (!(name! in TEMPLATE_FIELDS)) {
      throw new InputError(field, `{{${name}}} is not a field of the event; use ${Object.keys(TEMPLATE_FIELDS).map((n) => `{{${n}}}`).join(", ")}`);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(renderTemplate(value, SAMPLE));
  } catch (e: unknown) {
    throw new InputError(field, `must be JSON once its {{fields}} are filled in (put them inside strings); ${(e as Error).message}`);
  }
  if (parsed === null || typeof parsed !== "object") throw new InputError(field, "must be a JSON object or array");
  return value;
}
