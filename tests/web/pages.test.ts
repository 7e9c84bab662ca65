// The dashboard's pages, fragments and form actions through app.handle: what
// each shows, the filters, keyset "load more", the enqueue form, each action
// and bulk actions, the stored output and the SSE live tail.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { appendFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { insertJob, statusOf, webFixture, type WebFixture } from "./helpers.ts";

let f: WebFixture;
let logDir: string;
beforeAll(async () => {
  logDir = mkdtempSync(join(tmpdir(), "cj-web-pages-"));
  f = await webFixture({ logs: { dir: logDir } });
});
afterAll(async () => { await f.db.drop(); });

const page = async (path: string) => {
  const r = await f.request("GET", path, { headers: { accept: "text/html" } });
  return { status: r.status, html: await r.text(), type: r.headers.get("content-type") };
};
const rowIds = (html: string) => [...html.matchAll(/data-job-id="([^"]+)"/g)].map((m) => m[1]);

describe("overview", () => {
  test("shows counts by status, per-queue counts, the chart and the newest jobs, and polls every 2 s", async () => {
    await f.db.sql`DELETE FROM claude_jobs`;
    await insertJob(f.db, { status: "failed", queue: "nightly" });
    await insertJob(f.db, { status: "finished" });
    const newest = await insertJob(f.db, { payload: { prompt: "Write the changelog", cwd: "/tmp" } });
    const { status, html } = await page("/");
    expect(status).toBe(200);
    expect(html).toContain('hx-get="/partials/overview" hx-trigger="every 2s"');
    expect(html).toMatch(/class="stat s-failed"[^>]*>.*?<span class="stat-value">1<\/span>/s);
    expect(html).toContain('href="/jobs?queue=nightly"');
    expect(html).toContain("<svg viewBox=\"0 0 720 160\"");
    expect(html).toContain("1 finished");
    expect(rowIds(html)[0]).toBe(newest);
    const partial = await page("/partials/overview");
    expect(partial.html.startsWith('<div id="overview-live"')).toBe(true);
    expect(partial.html).toContain("Write the changelog");
  });
});

describe("job list", () => {
  test("filters by status, queue, kind and search, and keeps the filters in the live and next-page URLs", async () => {
    await f.db.sql`DELETE FROM claude_jobs`;
    const match = await insertJob(f.db, { status: "failed", queue: "ci", payload: { prompt: "fix the flaky test", cwd: "/tmp" } });
    await insertJob(f.db, { status: "failed", queue: "ci", payload: { prompt: "other", cwd: "/tmp" } });
    await insertJob(f.db, { status: "queued", queue: "ci", payload: { prompt: "fix the flaky test", cwd: "/tmp" } });
    const { html } = await page("/jobs?status=failed&queue=ci&kind=claude&q=FLAKY");
    expect(rowIds(html)).toEqual([match]);
    expect(html).toContain('hx-get="/partials/jobs?status=failed&queue=ci&kind=claude&q=FLAKY" hx-trigger="every 5s"');
    expect(html).toMatch(/<option value="failed" selected>/);
  });

  test("pages by keyset: the first page links the next, whose rows follow on", async () => {
    await f.db.sql`DELETE FROM claude_jobs`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await insertJob(f.db, { createdSecondsAgo: 50 - i }));
    const first = await page("/partials/jobs?limit=3");
    expect(rowIds(first.html)).toEqual(ids.slice(2).reverse());
    const more = /hx-get="([^"]+cursor=[^"]+)"/.exec(first.html)![1]!.replaceAll("&amp;", "&");
    const second = await page(more + "&limit=3");
    expect(rowIds(second.html)).toEqual(ids.slice(0, 2).reverse());
    expect(second.html).not.toContain("Load more");
  });

  test("a bad filter is a 422 page naming it", async () => {
    const { status, html } = await page("/jobs?status=sideways");
    expect(status).toBe(422);
    expect(html).toContain("status: must be one of");
  });
});

describe("job page", () => {
  test("shows the payload, each attempt's error and the Claude result", async () => {
    const id = await insertJob(f.db, {
      status: "failed", attempts: 2,
      payload: { prompt: "Summarize the README", cwd: "/tmp", model: "sonnet" },
      errors: [{ attempt: 1, at: new Date().toISOString(), message: "API Error: 529 Overloaded" }, { attempt: 2, at: new Date().toISOString(), message: "exit code 1" }],
      result: { sessionId: "5f1d0c3e-0000-4000-8000-000000000001", totalCostUsd: 0.0171, numTurns: 3, subtype: "success", result: "All done: 3 files changed.", model: "claude-sonnet-4-6" },
    });
    const { status, html } = await page(`/jobs/${id}`);
    expect(status).toBe(200);
    expect(html).toContain("Summarize the README");
    expect(html).toContain("Attempt 1");
    expect(html).toContain("API Error: 529 Overloaded");
    expect(html).toContain("exit code 1");
    expect(html).toContain("$0.0171");
    expect(html).toContain("5f1d0c3e-0000-4000-8000-000000000001");
    expect(html).toContain("All done: 3 files changed.");
    expect(html).toContain('action="/jobs/' + id + '/retry"');
    expect(html).not.toContain('hx-trigger="every 2s"');
  });

  test("a running job's page refreshes itself and offers cancel, with a confirmation", async () => {
    const id = await insertJob(f.db, { status: "running" });
    const { html } = await page(`/jobs/${id}`);
    expect(html).toContain(`hx-get="/partials/jobs/${id}" hx-trigger="every 2s"`);
    expect(html).toMatch(new RegExp(`action="/jobs/${id}/cancel" class="inline" data-confirm="[^"]+"`));
    expect(html).toContain(`data-log-src="/api/jobs/${id}/logs"`);
  });

  test("renders stored stream-json output readably, with the raw file a click away", async () => {
    const id = await insertJob(f.db, { status: "finished" });
    const name = `${id}-20250102-030405.stdout.log`;
    writeFileSync(join(logDir, name), [
      { type: "system", subtype: "init", model: "claude-sonnet-4-6", cwd: "/tmp", session_id: "abc" },
      { type: "assistant", message: { content: [{ type: "text", text: "Let me look." }, { type: "tool_use", name: "Bash", input: { command: "ls -la" } }] } },
      { type: "user", message: { content: [{ type: "tool_result", content: "README.md", is_error: false }] } },
      { type: "result", subtype: "success", is_error: false, result: "Done.", num_turns: 2, total_cost_usd: 0.01 },
    ].map((e) => JSON.stringify(e)).join("\n") + "\n");
    const { html } = await page(`/jobs/${id}`);
    expect(html).toContain('class="ev ev-text"');
    expect(html).toContain("Let me look.");
    expect(html).toContain("tool call: Bash");
    expect(html).toContain("$ ls -la");
    expect(html).toContain("README.md");
    expect(html).toContain('class="ev ev-result"');
    const raw = await f.request("GET", `/jobs/${id}/logs/${name}`);
    expect(raw.status).toBe(200);
    expect(await raw.text()).toContain('"type":"assistant"');
    expect((await f.request("GET", `/jobs/${id}/logs/..%2F..%2Fetc%2Fpasswd`, { headers: { accept: "text/html" } })).status).toBe(404);
  });

  test("an unknown or malformed id is a 404 page, never a 500", async () => {
    expect((await page("/jobs/0192f1c4-7b1e-7cc0-8d2a-5e1f0a9b3c4d")).status).toBe(404);
    expect((await page("/jobs/../../etc")).status).toBe(404);
    expect((await page("/jobs/1;DROP TABLE")).status).toBe(404);
    expect((await page("/partials/jobs/nope")).status).toBe(404);
  });
});

describe("form actions", () => {
  test("enqueue from the form redirects to the new job; a bad field re-renders the form with it", async () => {
    const ok = await f.request("POST", "/jobs", { form: { prompt: "hello", cwd: "/tmp", queue: "", priority: "5", delay: "", max_attempts: "2", model: "opus" } });
    expect(ok.status).toBe(303);
    const id = /\/jobs\/([0-9a-f-]{36})/.exec(ok.headers.get("location")!)![1]!;
    const job = await f.queue.get(id);
    expect(job).toMatchObject({ priority: 5, maxAttempts: 2, queue: "default" });
    expect(job.payload.model).toBe("opus");
    const bad = await f.request("POST", "/jobs", { form: { prompt: "hello", cwd: "/tmp", priority: "high" }, headers: { accept: "text/html" } });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain('data-error-field="priority"');
  });

  test("the form's unique key and after: a duplicate leads to the holder, a dependent waits, bad ids name the field", async () => {
    const form = { prompt: "nightly review", cwd: "/tmp", unique_key: "form-nightly" };
    const first = await f.request("POST", "/jobs", { form });
    const holder = /\/jobs\/([0-9a-f-]{36})\?done=enqueued$/.exec(first.headers.get("location")!)![1]!;
    const again = await f.request("POST", "/jobs", { form });
    expect(again.headers.get("location")).toBe(`/jobs/${holder}?done=duplicate`);
    const page = await (await f.request("GET", `/jobs/${holder}?done=duplicate`)).text();
    expect(page).toContain("Nothing enqueued: this job holds the unique key you gave.");
    expect(page).toContain("form-nightly");
    const child = await f.request("POST", "/jobs", { form: { prompt: "after it", cwd: "/tmp", after: ` ${holder}, ` } });
    const childId = /\/jobs\/([0-9a-f-]{36})\?done=enqueued-waiting$/.exec(child.headers.get("location")!)![1]!;
    expect((await f.queue.get(childId)).status).toBe("waiting");
    const bad = await f.request("POST", "/jobs", { form: { prompt: "x", cwd: "/tmp", after: "nope" }, headers: { accept: "text/html" } });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain('data-error-field="after[0]"');
  });

  test("a job a schedule enqueued names the schedule and its slot, escaped", async () => {
    const id = await f.queue.enqueue({ kind: "mail", payload: {} });
    await f.db.sql`UPDATE claude_jobs SET schedule_name = '<b>nightly</b>', schedule_slot = '2026-12-01T02:00:00Z' WHERE id = ${id}`;
    const page = await (await f.request("GET", `/jobs/${id}`)).text();
    expect(page).toContain("&lt;b&gt;nightly&lt;/b&gt;");
    expect(page).not.toContain("<b>nightly</b>");
    expect(page).toContain("slot 2026-12-01 02:00:00 UTC");
    expect((await f.queue.get(id)).scheduleSlot).toEqual(new Date("2026-12-01T02:00:00Z"));
  });

  test("cancel, retry, run now and delete each change the job and redirect back", async () => {
    const queued = await insertJob(f.db);
    let r = await f.request("POST", `/jobs/${queued}/cancel`);
    expect(r.status).toBe(303);
    expect(r.headers.get("location")).toBe(`/jobs/${queued}?done=cancelled`);
    expect(await statusOf(f.db, queued)).toBe("cancelled");
    r = await f.request("POST", `/jobs/${queued}/retry`);
    expect(r.headers.get("location")).toBe(`/jobs/${queued}?done=retried`);
    expect(await statusOf(f.db, queued)).toBe("queued");
    const later = await insertJob(f.db, { runInSeconds: 3600 });
    await f.request("POST", `/jobs/${later}/run-now`);
    expect((await f.queue.get(later)).runAt.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    const done = await insertJob(f.db, { status: "finished" });
    r = await f.request("POST", `/jobs/${done}/delete`);
    expect(r.headers.get("location")).toBe("/jobs?done=deleted");
    expect(await statusOf(f.db, done)).toBeUndefined();
    expect((await page(`/jobs/${queued}?done=retried`)).html).toContain("Job queued again.");
  });

  test("an action the job's state forbids is a 409; an unknown action is a 404", async () => {
    const done = await insertJob(f.db, { status: "finished" });
    expect((await f.request("POST", `/jobs/${done}/cancel`, { headers: { accept: "text/html" } })).status).toBe(409);
    expect((await f.request("POST", `/jobs/${done}/explode`, { headers: { accept: "text/html" } })).status).toBe(404);
  });

  test("bulk retry of a selection and bulk cancel of everything a filter matches", async () => {
    const a = await insertJob(f.db, { status: "failed", queue: "bulkq" });
    const b = await insertJob(f.db, { status: "cancelled", queue: "bulkq" });
    const c = await insertJob(f.db, { status: "failed", queue: "bulkq" });
    let r = await f.request("POST", "/jobs/bulk", { form: { action: "retry-selected", ids: [a, b], queue: "bulkq" } });
    expect(r.status).toBe(303);
    expect(r.headers.get("location")).toBe("/jobs?queue=bulkq&done=bulk-retry&n=2");
    expect([await statusOf(f.db, a), await statusOf(f.db, b), await statusOf(f.db, c)]).toEqual(["queued", "queued", "failed"]);
    r = await f.request("POST", "/jobs/bulk", { form: { action: "cancel-matching", queue: "bulkq", status: "queued" } });
    expect(r.headers.get("location")).toContain("n=2");
    expect([await statusOf(f.db, a), await statusOf(f.db, b)]).toEqual(["cancelled", "cancelled"]);
    expect((await f.request("POST", "/jobs/bulk", { form: { action: "retry-selected" } })).status).toBe(422);
    expect((await f.request("POST", "/jobs/bulk", { form: { action: "nuke-all" } })).status).toBe(422);
  });
});

describe("workers page and live log tail", () => {
  test("the workers page says when none are live", async () => {
    const { html } = await page("/workers");
    expect(html).toContain("No live workers");
    expect(html).toContain('hx-get="/partials/workers"');
  });

  test("GET /api/jobs/:id/logs follows the newest stdout log while the job runs, then ends", async () => {
    const id = await insertJob(f.db, { status: "running" });
    const path = join(logDir, `${id}-20250103-000000.stdout.log`);
    writeFileSync(path, JSON.stringify({ type: "assistant", message: { content: [{ type: "text", text: "first" }] } }) + "\n");
    const r = await f.request("GET", `/api/jobs/${id}/logs`);
    expect(r.headers.get("content-type")).toContain("text/event-stream");
    const reader = r.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const readUntil = async (needle: string) => {
      while (!text.includes(needle)) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value);
      }
      return text;
    };
    await readUntil("first");
    expect(text).toContain("event: file");
    appendFileSync(path, JSON.stringify({ type: "assistant", message: { content: [{ type: "tool_use", name: "Edit", input: { file: "<b>x</b>" } }] } }) + "\n");
    await readUntil("Edit");
    expect(text).toContain("&lt;b&gt;x&lt;/b&gt;");
    await f.db.sql`UPDATE claude_jobs SET status = 'finished', finished_at = now() WHERE id = ${id}`;
    await readUntil("event: end");
    expect((await reader.read()).done).toBe(true);
  });
});
