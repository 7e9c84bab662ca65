// Deliveries over HTTP: GET /api/jobs/:id/deliveries (404 for no such job,
// [] for a job with none, URLs redacted, no secret), and the job page's
// Webhook deliveries section, where a receiver's answer holding HTML is
// shown as text.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { submitWithWebhook } from "../../src/notify/webhooks.ts";
import { deliverDue } from "../../src/notify/deliver.ts";
import { webFixture, type WebFixture } from "../web/helpers.ts";
import { activeContent } from "../web/helpers.ts";
import { Clock, contextFor, endJob, Receiver } from "./helpers.ts";

let f: WebFixture;
let receiver: Receiver;
beforeAll(async () => {
  f = await webFixture();
  receiver = new Receiver();
});
afterAll(async () => {
  receiver.stop();
  await f.db.drop();
});

const EVIL = `<script>alert("x")</script><img src=x onerror=alert(1)>`;

async function deliveredWithAnswer(answer: string): Promise<string> {
  receiver.answer({ status: 500, body: answer });
  const [o] = await submitWithWebhook(f.queue, [{ kind: "noop", payload: {} }], { url: `${receiver.url}?token=SECRETQUERY`, secret: "TOPSECRET" });
  await endJob(f.db.sql, o!.id, "failed", { error: EVIL });
  await deliverDue(contextFor(f.db.sql, new Clock()));
  return o!.id;
}

describe("GET /api/jobs/:id/deliveries", () => {
  test("lists the job's deliveries with their attempts; URLs without path or query, never the secret", async () => {
    const id = await deliveredWithAnswer("busy");
    const r = await f.request("GET", `/api/jobs/${id}/deliveries`);
    expect(r.status).toBe(200);
    const text = await r.text();
    expect(text).not.toContain("SECRETQUERY");
    expect(text).not.toContain("TOPSECRET");
    const list = JSON.parse(text);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ event: "failed", source: "job", state: "pending", attempts: 1, lastStatus: 500, url: `http://127.0.0.1:${new URL(receiver.url).port}/…` });
    expect(list[0].attemptLog).toEqual([expect.objectContaining({ attempt: 1, statusCode: 500, response: "busy" })]);
  });

  test("404 for no such job (also a malformed id: 4xx), [] for a job with none, 401 without the token", async () => {
    expect((await f.request("GET", "/api/jobs/00000000-0000-4000-8000-000000000000/deliveries")).status).toBe(404);
    const bad = (await f.request("GET", "/api/jobs/nope/deliveries")).status;
    expect(bad >= 400 && bad < 500).toBe(true);
    const plain = await f.queue.enqueue({ kind: "noop", payload: {} });
    const r = await f.request("GET", `/api/jobs/${plain}/deliveries`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual([]);
    expect((await f.request("GET", `/api/jobs/${plain}/deliveries`, { auth: false })).status).toBe(401);
  });
});

describe("the job page", () => {
  test("shows the deliveries, the receiver's answer and the error as text, never as markup", async () => {
    const id = await deliveredWithAnswer(EVIL);
    const r = await f.request("GET", `/jobs/${id}`);
    expect(r.status).toBe(200);
    const html = await r.text();
    expect(html).toContain("Webhook deliveries");
    expect(html).toContain("data-delivery-response");
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(html).not.toContain(EVIL);
    expect(html).not.toContain("SECRETQUERY");
    expect(html).not.toContain("TOPSECRET");
    // No script or handler in the page came from the data.
    expect((await activeContent(html)).join("\n")).not.toContain("alert");
  });

  test("a job with no deliveries has no such section", async () => {
    const plain = await f.queue.enqueue({ kind: "noop", payload: {} });
    expect(await (await f.request("GET", `/jobs/${plain}`)).text()).not.toContain("Webhook deliveries");
  });
});
