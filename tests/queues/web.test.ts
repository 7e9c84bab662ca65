// Pausing from the HTTP API and the dashboard, through the app (app.handle):
// the same token and cross-site rules as every mutation, 4xx naming the
// field, who paused it, the queues page and its htmx partial, and the
// overview marking a paused queue. Every value on the page is escaped.

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { activeContent, insertJob, webFixture, type WebFixture } from "../web/helpers.ts";
import { Queues } from "../../src/queue/queues.ts";

let f: WebFixture;
let queues: Queues;

beforeAll(async () => {
  f = await webFixture();
  queues = new Queues(f.db.sql);
});
afterEach(async () => {
  await f.db.sql`TRUNCATE claude_jobs, claude_job_queues`;
});
afterAll(async () => {
  await f.db.drop();
});

const paused = async () => (await queues.paused());

describe("/api/queues", () => {
  test("list, pause, resume with the bearer token", async () => {
    await insertJob(f.db, { queue: "mail" });
    await insertJob(f.db, { queue: "mail", status: "finished" });
    let r = await f.request("POST", "/api/queues/mail/pause");
    expect(r.status).toBe(200);
    const body = await r.json() as { changed: boolean; queue: Record<string, unknown> };
    expect(body).toMatchObject({ changed: true, queue: { queue: "mail", paused: true, queued: 1, finished: 1 } });
    expect(String(body.queue.pausedBy)).toMatch(/^api(@|$)/);
    r = await f.request("GET", "/api/queues");
    expect(await r.json()).toEqual([expect.objectContaining({ queue: "mail", paused: true, pausedBy: body.queue.pausedBy })]);
    expect((await (await f.request("POST", "/api/queues/mail/pause")).json() as { changed: boolean }).changed).toBe(false);
    r = await f.request("POST", "/api/queues/mail/resume");
    expect(await r.json()).toMatchObject({ changed: true, queue: { paused: false, pausedAt: null, pausedBy: null } });
  });

  test("a queue with no jobs can be paused", async () => {
    const r = await f.request("POST", "/api/queues/nightly/pause");
    expect(r.status).toBe(200);
    expect(await paused()).toEqual(["nightly"]);
  });

  test("no token: 401; another site: 403; a bad name: 422 naming the field; nothing changes", async () => {
    expect((await f.request("POST", "/api/queues/mail/pause", { auth: false })).status).toBe(401);
    expect((await f.request("POST", "/api/queues/mail/pause", { headers: { authorization: `Bearer ${f.token}`, origin: "https://evil.example" } })).status).toBe(403);
    const bad = await f.request("POST", "/api/queues/Not%20A%20Queue/pause");
    expect(bad.status).toBe(422);
    expect(await bad.json()).toMatchObject({ error: "invalid_input", field: "queue" });
    expect((await f.request("GET", "/api/queues", { auth: false })).status).toBe(401);
    expect(await paused()).toEqual([]);
  });
});

describe("the queues page", () => {
  test("lists queues with counts and a Pause button; the form pauses and redirects back with a notice", async () => {
    await insertJob(f.db, { queue: "builds" });
    let page = await (await f.request("GET", "/queues")).text();
    expect(page).toContain('data-queue="builds" data-paused="false"');
    expect(page).toContain('action="/queues/builds/pause"');
    expect(page).toContain('href="/queues" class="active"');
    const r = await f.request("POST", "/queues/builds/pause", { form: {} });
    expect(r.status).toBe(303);
    expect(r.headers.get("location")).toBe("/queues?done=queue-paused");
    expect(await paused()).toEqual(["builds"]);
    page = await (await f.request("GET", "/queues?done=queue-paused")).text();
    expect(page).toContain("Queue paused: no worker claims its jobs; running jobs finish.");
    expect(page).toContain('data-queue="builds" data-paused="true"');
    expect(page).toContain('action="/queues/builds/resume"');
    expect(page).toMatch(/dashboard(@[^,]*)?, /);
  });

  test("htmx gets the table back in place, naming the queue", async () => {
    await insertJob(f.db, { queue: "builds" });
    await queues.pause("builds", { by: "ops" });
    const r = await f.request("POST", "/queues/builds/resume", { form: {}, headers: { authorization: `Bearer ${f.token}`, "hx-request": "true" } });
    expect(r.status).toBe(200);
    const html = await r.text();
    expect(html).toStartWith('<section id="queues-live"');
    expect(html).toContain("Queue builds resumed: its jobs run again.");
    expect(html).toContain('data-queue="builds" data-paused="false"');
    expect(await paused()).toEqual([]);
    const partial = await (await f.request("GET", "/partials/queues")).text();
    expect(partial).toStartWith('<section id="queues-live"');
  });

  test("a bad queue or action is a 4xx, and nothing changes", async () => {
    const bad = await f.request("POST", "/queues/UPPER/pause", { form: {}, headers: { authorization: `Bearer ${f.token}`, accept: "text/html" } });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain("queue: must be 1-63 characters");
    expect((await f.request("POST", "/queues/builds/drop", { form: {} })).status).toBe(404);
    expect((await f.request("POST", "/queues/builds/pause", { form: {}, headers: { authorization: `Bearer ${f.token}`, origin: "https://evil.example" } })).status).toBe(403);
    expect(await paused()).toEqual([]);
  });

  test("who paused it is escaped", async () => {
    await queues.pause("x", { by: `<img src=x onerror=alert(1)><script>alert(2)</script>` });
    const page = await (await f.request("GET", "/queues")).text();
    expect(await activeContent(page)).toEqual([]);
    expect(page).toContain("&lt;img src=x onerror=alert(1)&gt;");
  });
});

describe("the overview", () => {
  test("marks a paused queue's row as paused", async () => {
    await insertJob(f.db, { queue: "held" });
    await insertJob(f.db, { queue: "free" });
    await queues.pause("held", { by: "ops" });
    const html = await (await f.request("GET", "/partials/overview")).text();
    expect(html).toMatch(/<tr data-queue="held" data-paused="true">[\s\S]*?badge s-paused[\s\S]*?paused<\/a>/);
    expect(html).toContain('<tr data-queue="free">');
  });
});
