// The schedules page in a real browser (Debian's chromium, headless, driven
// by playwright-core, as tests/web/browser.test.ts): schedules listed with
// their next run, the nav link to them, Run now making a job that the row
// then links to, Pause showing paused (and Resume undoing it), all swapped in
// place by htmx; a name and a payload holding HTML shown as text, running
// nothing. Screenshots at desktop and phone widths in tests/artifacts/.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { launchChromium, openSignedInPage } from "../helpers/browser.ts";
import { createApp, DEFAULT_MAX_BODY_BYTES } from "../../src/web/app.tsx";
import { serveApp, type ServedApp } from "../../src/web/server.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { Queue } from "../../src/queue/client.ts";
import { Schedules } from "../../src/schedule/schedules.ts";
import { TEST_TOKEN } from "./helpers.ts";

const ARTIFACTS = join(import.meta.dir, "..", "artifacts");
const HOSTILE_NAME = `<img src=x onerror=alert(1)> "nightly" & 'co'`;
const HOSTILE_PROMPT = `<script>alert(2)</script><b>bold?</b>`;

let db: TestDatabase;
let dashboard: ServedApp;
let browser: Browser;
const alerts: string[] = [];

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  db = await createTestDatabase({ max: 10 });
  const schedules = new Schedules(db.sql);
  await schedules.add({ name: "nightly triage", expression: "30 2 * * *", timezone: "Europe/Paris", payload: { prompt: "Triage the new issues", cwd: "/tmp" } });
  await schedules.add({ name: "hourly ping", expression: "@hourly", kind: "ping", queue: "ops", payload: { url: "https://example.com" }, missed: "skip" });
  await schedules.add({ name: HOSTILE_NAME, expression: "*/15 9-17 * * MON-FRI", kind: "ping", payload: { prompt: HOSTILE_PROMPT } });
  const app = createApp({ queue: new Queue(db.sql), sql: db.sql, token: TEST_TOKEN, onError: () => {} });
  dashboard = serveApp(app, { hostname: "127.0.0.1", port: 0, maxRequestBodySize: DEFAULT_MAX_BODY_BYTES });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await dashboard?.stop();
  await db?.drop();
}, 30_000);

const openPage = (width: number, height: number) => openSignedInPage(browser, dashboard.url, TEST_TOKEN, { width, height }, alerts);

const row = (page: Page, name: string) => page.locator("#schedules-live tr[data-schedule]").filter({ has: page.locator("td.schedule-name", { hasText: name }) });

describe("the schedules page in chromium", () => {
  test("the nav leads to it; it lists each schedule with its expression, zone and next run", async () => {
    const page = await openPage(1280, 900);
    await page.locator("nav.nav a", { hasText: "Schedules" }).click();
    await page.waitForURL(`${dashboard.url}/schedules`);
    const names = await page.locator("#schedules-live td.schedule-name").allTextContents();
    expect(names.sort()).toEqual([HOSTILE_NAME, "hourly ping", "nightly triage"].sort());
    const nightly = row(page, "nightly triage");
    expect(await nightly.locator("code").textContent()).toBe("30 2 * * *");
    expect(await nightly.textContent()).toContain("Europe/Paris · missed: once");
    expect(await nightly.locator("td").nth(4).textContent()).toMatch(/^in \d+/);
    expect(await nightly.textContent()).toContain("never");
    await page.screenshot({ path: join(ARTIFACTS, "schedules-desktop.png"), fullPage: true });
    await page.close();
  }, 30_000);

  test("Run now enqueues one job, and the row links to it", async () => {
    const page = await openPage(1280, 900);
    await page.goto(`${dashboard.url}/schedules`);
    await row(page, "nightly triage").locator('button[data-action="run"]').click();
    await page.locator("#schedules-live .notice", { hasText: "Schedule nightly triage: job" }).waitFor();
    const jobs = await db.sql`SELECT id, status, payload->>'prompt' AS prompt FROM claude_jobs WHERE schedule_name = 'nightly triage'`;
    expect(jobs.map((j) => [j.status, j.prompt])).toEqual([["queued", "Triage the new issues"]]);
    const link = row(page, "nightly triage").locator("a[data-last-job]");
    expect(await link.getAttribute("href")).toBe(`/jobs/${jobs[0]!.id}`);
    expect(await row(page, "nightly triage").locator(".badge.s-queued").textContent()).toBe("queued");
    await link.click();
    await page.waitForURL(`${dashboard.url}/jobs/${jobs[0]!.id}`);
    expect(await page.textContent("body")).toContain("Triage the new issues");
    await page.close();
  }, 30_000);

  test("Pause shows the schedule paused, with a Resume button that undoes it", async () => {
    const page = await openPage(1280, 900);
    await page.goto(`${dashboard.url}/schedules`);
    await row(page, "hourly ping").locator('button[data-action="pause"]').click();
    await page.locator('#schedules-live tr[data-paused="true"] td.schedule-name', { hasText: "hourly ping" }).waitFor();
    const paused = row(page, "hourly ping");
    expect(await paused.locator(".badge.s-paused").textContent()).toBe("paused");
    expect(await paused.locator('button[data-action="resume"]').textContent()).toBe("Resume");
    const [state] = await db.sql`SELECT paused_at IS NOT NULL AS paused FROM claude_job_schedules WHERE name = 'hourly ping'`;
    expect(state!.paused).toBe(true);
    // Still paused after a reload: it is in the database, not in the page.
    await page.reload();
    expect(await row(page, "hourly ping").getAttribute("data-paused")).toBe("true");
    await row(page, "hourly ping").locator('button[data-action="resume"]').click();
    await page.locator('#schedules-live tr[data-paused="false"] td.schedule-name', { hasText: "hourly ping" }).waitFor();
    await page.close();
  }, 30_000);

  test("a name and a payload holding HTML are text: nothing runs, nothing is injected, and its buttons reach it", async () => {
    const page = await openPage(1280, 900);
    await page.goto(`${dashboard.url}/schedules`);
    const hostile = row(page, "nightly\"");
    expect(await hostile.locator("td.schedule-name").textContent()).toBe(HOSTILE_NAME);
    expect(await hostile.getAttribute("data-schedule")).toBe(HOSTILE_NAME);
    expect(await hostile.locator(".schedule-payload").textContent()).toBe(HOSTILE_PROMPT);
    expect(await page.locator("#schedules-live img, #schedules-live script, #schedules-live b").count()).toBe(0);
    await hostile.locator('button[data-action="run"]').click();
    await page.locator("#schedules-live .notice", { hasText: `Schedule ${HOSTILE_NAME}: job` }).waitFor();
    const [job] = await db.sql`SELECT count(*)::int AS n FROM claude_jobs WHERE schedule_name = ${HOSTILE_NAME}`;
    expect(job!.n).toBe(1);
    expect(await page.locator("#schedules-live img, #schedules-live script").count()).toBe(0);
    expect(alerts).toEqual([]);
    await page.close();
  }, 30_000);

  test("at phone width the table still shows every schedule and its buttons", async () => {
    const page = await openPage(390, 844);
    await page.goto(`${dashboard.url}/schedules`);
    expect(await page.locator("#schedules-live tr[data-schedule]").count()).toBe(3);
    expect(await row(page, "nightly triage").locator('button[data-action="run"]').isVisible()).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, "schedules-phone.png"), fullPage: true });
    await page.close();
  }, 30_000);
});
