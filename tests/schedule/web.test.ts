// Schedules over HTTP, through the app (app.handle): the API's status codes
// (201/200/204/404/422, and 401/403 from the rules every mutation follows),
// and the dashboard's schedules page and its POST actions (forms and htmx).
// Names and payloads are anyone's text: escaped wherever they are shown.

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { activeContent, webFixture, type WebFixture } from "../web/helpers.ts";

let f: WebFixture;
const HOSTILE = `<img src=x onerror=alert(1)>"&'`;

beforeAll(async () => {
  f = await webFixture();
});
afterEach(async () => {
  await f.db.sql`DELETE FROM claude_job_schedules`;
  await f.db.sql`DELETE FROM claude_jobs`;
});
afterAll(async () => {
  await f.db.drop();
});

const path = (name: string, action = "") => `/api/schedules/${encodeURIComponent(name)}${action ? `/${action}` : ""}`;
const add = (json: Record<string, unknown>) => f.request("POST", "/api/schedules", { json });
const count = async (table: "claude_jobs" | "claude_job_schedules") => Number((await f.db.sql.unsafe(`SELECT count(*) AS n FROM ${table}`))[0]!.n);

describe("/api/schedules", () => {
  test("add (201, then 200 for a replacement), list, get, pause, resume, run (201), remove (204)", async () => {
    let r = await add({ name: "daily digest", expression: "0 7 * * *", timezone: "America/New_York", kind: "digest", queue: "mail", priority: 3, max_attempts: 2, payload: { to: "team" } });
    expect(r.status).toBe(201);
    expect(r.headers.get("location")).toBe("/api/schedules/daily%20digest");
    const added = await r.json() as Record<string, any>;
    expect(added).toMatchObject({
      name: "daily digest", expression: "0 7 * * *", timezone: "America/New_York", missed: "once", paused: false, lastJobId: null,
      job: { kind: "digest", queue: "mail", priority: 3, maxAttempts: 2, payload: { to: "team" } },
    });
    expect(added.nextRunAt).toMatch(/T1[12]:00:00\.000Z$/); // 07:00 in New York: 11:00 or 12:00 UTC

    r = await add({ name: "daily digest", expression: "@hourly", kind: "digest", payload: {}, missed: "all:2" });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ expression: "@hourly", timezone: "UTC", missed: "all:2" });

    expect(await (await f.request("GET", "/api/schedules")).json()).toEqual([expect.objectContaining({ name: "daily digest" })]);
    expect(await (await f.request("GET", path("daily digest"))).json()).toMatchObject({ name: "daily digest" });
    expect(await (await f.request("POST", path("daily digest", "pause"))).json()).toMatchObject({ paused: true });

    r = await f.request("POST", path("daily digest", "run"));
    expect(r.status).toBe(201);
    const run = await r.json() as { jobId: string; schedule: Record<string, unknown> };
    expect(r.headers.get("location")).toBe(`/api/jobs/${run.jobId}`);
    expect(run.schedule).toMatchObject({ lastJobId: run.jobId, lastJobStatus: "queued", paused: true });
    expect(await (await f.request("GET", `/api/jobs/${run.jobId}`)).json()).toMatchObject({ kind: "digest", status: "queued" });

    expect(await (await f.request("POST", path("daily digest", "resume"))).json()).toMatchObject({ paused: false });
    r = await f.request("DELETE", path("daily digest"));
    expect(r.status).toBe(204);
    expect(await count("claude_job_schedules")).toBe(0);
    expect(await count("claude_jobs")).toBe(1);
  });

  test.each([
    [{ name: "x", expression: "0 25 * * *", payload: {}, kind: "k" }, "expression", /^expression: must be a 5-field cron expression/],
    [{ name: "x", expression: "@hourly", timezone: "Moon/Base", payload: {}, kind: "k" }, "timezone", /^timezone: must be an IANA time zone name/],
    [{ name: "x", expression: "@hourly", missed: "all", payload: {}, kind: "k" }, "missed", /^missed: must be skip, once or all:N/],
    [{ name: "x", expression: "@hourly", payload: { cwd: "/tmp" } }, "payload.prompt", /^payload\.prompt: /],
    [{ name: "x", expression: "@hourly", payload: {}, kind: "k", priority: "high" }, "priority", /^priority: must be an integer/],
    [{ name: "x", expression: "@hourly", payload: {}, kind: "k", run_at: "2026-01-01" }, "run_at", /^run_at: is not a known field; send a JSON object with the fields name, expression, payload/],
    [{ name: "a/b", expression: "@hourly", payload: {}, kind: "k" }, "name", /^name: must be 1-100 characters, without control characters or '\/'/],
    [{ expression: "@hourly", payload: {}, kind: "k" }, "name", /name/],
  ])("bad input %j: 422 naming %s, nothing written", async (body, field, message) => {
    const r = await add(body);
    expect(r.status).toBe(422);
    const error = await r.json() as { error: string; field: string; message: string };
    expect(error.error).toBe("invalid_input");
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
    expect(await count("claude_job_schedules")).toBe(0);
  });

  test("an unknown schedule is a 404 naming it; no token 401; another site 403; nothing changes", async () => {
    for (const [method, p] of [["GET", path("nope")], ["DELETE", path("nope")], ["POST", path("nope", "pause")], ["POST", path("nope", "resume")], ["POST", path("nope", "run")]] as const) {
      const r = await f.request(method, p);
      expect([method, p, r.status]).toEqual([method, p, 404]);
      expect(await r.json()).toMatchObject({ error: "not_found", message: 'no schedule named "nope"' });
    }
    await add({ name: "s", expression: "@daily", kind: "k", payload: {} });
    expect((await f.request("POST", path("s", "run"), { auth: false })).status).toBe(401);
    expect((await f.request("POST", path("s", "run"), { headers: { authorization: `Bearer ${f.token}`, origin: "https://evil.example" } })).status).toBe(403);
    expect((await f.request("POST", "/api/schedules", { auth: false, json: { name: "t", expression: "@daily", kind: "k", payload: {} } })).status).toBe(401);
    expect((await f.request("GET", "/api/schedules", { auth: false })).status).toBe(401);
    expect(await count("claude_jobs")).toBe(0);
    expect(await count("claude_job_schedules")).toBe(1);
  });

  test("the template takes the enqueue's flow-control fields", async () => {
    const r = await add({ name: "flow", expression: "@daily", kind: "k", payload: {}, concurrency_key: "smtp", concurrency_limit: 4, unique_key: "digest", unique_states: ["queued", "running", "finished"] });
    expect(r.status).toBe(201);
    expect((await r.json() as { job: unknown }).job).toMatchObject({
      concurrencyKey: "smtp", concurrencyLimit: 4, uniqueKey: "digest", uniqueStates: expect.arrayContaining(["waiting", "queued", "running", "finished"]),
    });
    const bad = await add({ name: "flow2", expression: "@daily", kind: "k", payload: {}, concurrency_limit: 4 });
    expect(bad.status).toBe(422);
    expect(await bad.json()).toMatchObject({ field: "concurrency_limit" });
  });

  test("a run whose template's unique key is held is a 409, and enqueues nothing", async () => {
    await add({ name: "once at a time", expression: "@daily", kind: "k", payload: {}, unique_key: "one" });
    expect((await f.request("POST", path("once at a time", "run"))).status).toBe(201);
    const r = await f.request("POST", path("once at a time", "run"));
    expect(r.status).toBe(409);
    expect((await r.json() as { message: string }).message).toContain('a job holds its unique key "one"');
    expect(await count("claude_jobs")).toBe(1);
  });
});

describe("the schedules page", () => {
  test("lists schedules with next and last run; Run now enqueues a job and shows it linked; Pause shows paused", async () => {
    await add({ name: "nightly", expression: "30 2 * * *", timezone: "Europe/Paris", kind: "k", payload: { prompt: "tidy" } });
    let page = await (await f.request("GET", "/schedules")).text();
    expect(page).toContain('href="/schedules" class="active"');
    expect(page).toContain('data-schedule="nightly" data-paused="false"');
    expect(page).toContain("<code>30 2 * * *</code>");
    expect(page).toContain("Europe/Paris · missed: once");
    expect(page).toContain('action="/schedules/nightly/run"');
    expect(page).toContain('action="/schedules/nightly/pause"');
    expect(page).toContain('<span class="muted">never</span>');
    expect(page).toMatch(/<span title="[^"]+ UTC">in \d+/);
    await f.db.sql`UPDATE claude_job_schedules SET next_run_at = now() - interval '10 minutes'`;
    expect(await (await f.request("GET", "/partials/schedules")).text()).toContain("due 10m ago: no worker has run it yet");

    let r = await f.request("POST", "/schedules/nightly/run", { form: {} });
    expect(r.status).toBe(303);
    expect(r.headers.get("location")).toBe("/schedules?done=schedule-run");
    const [job] = await f.db.sql`SELECT id FROM claude_jobs WHERE schedule_name = 'nightly'`;
    page = await (await f.request("GET", "/schedules?done=schedule-run")).text();
    expect(page).toContain("Schedule run: one job enqueued.");
    expect(page).toContain(`<a href="/jobs/${job!.id}" class="mono" data-last-job="${job!.id}">`);

    r = await f.request("POST", "/schedules/nightly/pause", { form: {}, headers: { authorization: `Bearer ${f.token}`, "hx-request": "true" } });
    expect(r.status).toBe(200);
    const html = await r.text();
    expect(html).toStartWith('<section id="schedules-live"');
    expect(html).toContain("Schedule nightly paused");
    expect(html).toContain('data-schedule="nightly" data-paused="true"');
    expect(html).toContain('action="/schedules/nightly/resume"');
    expect(await (await f.request("GET", "/partials/schedules")).text()).toStartWith('<section id="schedules-live"');
  });

  test("names and payloads are escaped, in text and in URLs", async () => {
    expect((await add({ name: HOSTILE, expression: "@daily", kind: "k", payload: { prompt: `<script>alert(2)</script>` } })).status).toBe(201);
    const page = await (await f.request("GET", "/schedules")).text();
    expect(await activeContent(page)).toEqual([]);
    const shown = "&lt;img src=x onerror=alert(1)&gt;&quot;&amp;&#x27;";
    expect(page).toContain(`<td class="schedule-name">${shown}</td>`);
    expect(page).toContain(`data-schedule="${shown}"`);
    expect(page).toContain("&lt;script&gt;alert(2)&lt;/script&gt;");
    expect(page).toContain(`action="/schedules/${encodeURIComponent(HOSTILE)}/run"`);
    // The form's URL reaches the schedule it names.
    const r = await f.request("POST", `/schedules/${encodeURIComponent(HOSTILE)}/run`, { form: {}, headers: { authorization: `Bearer ${f.token}`, "hx-request": "true" } });
    expect(r.status).toBe(200);
    expect(await activeContent(await r.text())).toEqual([]);
    expect(await count("claude_jobs")).toBe(1);
  });

  test("an unknown schedule or action is a 404, another site a 403, and nothing changes", async () => {
    await add({ name: "s", expression: "@daily", kind: "k", payload: {} });
    expect((await f.request("POST", "/schedules/s/explode", { form: {} })).status).toBe(404);
    expect((await f.request("POST", "/schedules/nope/run", { form: {} })).status).toBe(404);
    const bad = await f.request("POST", "/schedules/%20s/run", { form: {}, headers: { authorization: `Bearer ${f.token}`, accept: "text/html" } });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain("name: must be 1-100 characters");
    expect((await f.request("POST", "/schedules/s/run", { form: {}, headers: { authorization: `Bearer ${f.token}`, origin: "https://evil.example" } })).status).toBe(403);
    expect((await f.request("POST", "/schedules/s/pause", { form: {}, auth: false })).status).toBe(401);
    expect(await count("claude_jobs")).toBe(0);
    expect((await f.db.sql`SELECT paused_at FROM claude_job_schedules`)[0]!.paused_at).toBeNull();
  });
});
