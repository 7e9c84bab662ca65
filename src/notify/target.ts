// Checking what a user gives for a webhook: the URL (http or https only),
// the secret, the body template; and showing a URL without what may be a
// credential in it (a Slack incoming-webhook URL is one, in its path).

import { InputError } from "../errors.ts";
import type { WebhookTarget } from "../db/webhooks.ts";
import { validateTemplate } from "./template.ts";

const MAX_URL = 2000;
const MAX_SECRET = 1000;

/** An http(s) URL with a host; throws an InputError naming `field` otherwise. */
export function validateWebhookUrl(field: string, value: unknown): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new InputError(field, `must be an http:// or https:// URL; got ${JSON.stringify(value ?? null)}`);
  }
  const text = value.trim();
  if (text.length > MAX_URL) throw new InputError(field, `must be a URL of at most ${MAX_URL} characters; got ${text.length}`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InputError(field, `must be an http:// or https:// URL like https://example.com/hook; got ${JSON.stringify(text)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new InputError(field, `must be an http:// or https:// URL; got the scheme ${JSON.stringify(url.protocol.slice(0, -1))}`);
  }
  if (url.hostname === "") throw new InputError(field, `must name a host; got ${JSON.stringify(text)}`);
  return url.toString();
}

export function validateWebhookSecret(field: string, value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_SECRET) {
    throw new InputError(field, `must be a text of 1-${MAX_SECRET} characters`);
  }
  return value;
}

/** A webhook's URL, secret and template, checked; field names are the caller's (flags, or API keys). */
export function validateTarget(
  fields: { url: string; secret: string; template: string },
  input: { url: unknown; secret?: unknown; template?: unknown },
): WebhookTarget {
  return {
    url: validateWebhookUrl(fields.url, input.url),
    secret: validateWebhookSecret(fields.secret, input.secret),
    template: input.template === undefined || input.template === null ? null : validateTemplate(fields.template, input.template),
  };
}

/**
 * The URL as people see it: scheme, host and port, the path hidden. Webhook
 * URLs often carry their credential (Slack's, Discord's), and the job page
 * is seen by everyone who can see the dashboard.
 */
export function redactWebhookUrl(url: string): string {
  try {
    const u = new URL(url);
    const rest = u.pathname !== "/" || u.search !== "" ? "/…" : "/";
    return `${u.protocol}//${u.host}${rest}`;
  } catch {
    return "(invalid URL)";
  }
}
