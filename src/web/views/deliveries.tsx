/** @jsxImportSource @kitajs/html */
// The job page's webhook deliveries: each event sent for the job (its own
// webhook's and its queue's), where it stands (pending, delivered, failed),
// and every attempt with what the receiver answered (bounded). URLs come
// redacted (their path may be a credential); every value is escaped.

import type { ShownDelivery } from "../../notify/webhooks.ts";
import { esc, isoTime } from "./format.ts";

const BADGE: Record<ShownDelivery["state"], string> = { pending: "s-queued", delivered: "s-finished", failed: "s-failed" };

export function DeliveriesSection({ deliveries }: { deliveries: ShownDelivery[] }) {
  if (deliveries.length === 0) return "";
  return (
    <section class="card" data-deliveries>
      <h2>Webhook deliveries</h2>
      <div class="table-wrap">
        <table class="table">
          <thead>
            <tr><th>Event</th><th>To</th><th>State</th><th>Attempts</th><th>Last answer</th><th>When</th></tr>
          </thead>
          <tbody>
            {deliveries.map((d) => (
              <tr data-delivery={esc(d.id)}>
                <td>{esc(`job.${d.event}`)}</td>
                <td><span class="mono">{esc(d.url)}</span> <span class="muted small">{esc(d.source === "queue" ? "queue's webhook" : "job's webhook")}{d.templated ? esc(", template") : ""}</span></td>
                <td><span class={`badge ${BADGE[d.state]}`}>{esc(d.state)}</span></td>
                <td>{esc(`${d.attempts} of ${d.maxAttempts}`)}</td>
                <td>{d.lastStatus !== null ? esc(`HTTP ${d.lastStatus}`) : ""}{saysMore(d.lastError, d.lastStatus) ? <div class="muted small" data-delivery-error>{esc(d.lastError)}</div> : ""}</td>
                <td class="small">{esc(whenText(d))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {deliveries.some((d) => d.attemptLog.length > 0) ? (
        <details>
          <summary>Attempts and answers</summary>
          {deliveries.map((d) => <AttemptLog delivery={d} />)}
        </details>
      ) : ""}
    </section>
  );
}

/** An error worth showing beside the status code: not just "HTTP 500" again. */
function saysMore(error: string | null, status: number | null): error is string {
  return Boolean(error) && error !== `HTTP ${status}`;
}

function whenText(d: ShownDelivery): string {
  if (d.state === "delivered") return `delivered ${isoTime(d.deliveredAt)}`;
  if (d.state === "pending") return `${d.attempts === 0 ? "due" : "next attempt"} ${isoTime(d.nextAttemptAt)}`;
  return `event ${isoTime(d.occurredAt)}`;
}

function AttemptLog({ delivery }: { delivery: ShownDelivery }) {
  if (delivery.attemptLog.length === 0) return "";
  return (
    <div class="delivery-attempts">
      <h3>{esc(`job.${delivery.event} to ${delivery.url}`)}</h3>
      <ol>
        {delivery.attemptLog.map((a) => (
          <li>
            <span class="small">{esc(`${isoTime(new Date(a.startedAt))}${a.endedAt ? "" : " (no answer recorded: the worker stopped)"}`)}</span>{" "}
            {a.statusCode !== null ? <strong>{esc(`HTTP ${a.statusCode}`)}</strong> : ""}
            {saysMore(a.error, a.statusCode) ? <span class="muted"> {esc(a.error)}</span> : ""}
            {a.response ? <pre class="code" data-delivery-response>{esc(a.response)}</pre> : ""}
          </li>
        ))}
      </ol>
    </div>
  );
}
