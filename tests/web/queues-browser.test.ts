// The queues page in a real browser (Debian's chromium, headless, through
// playwright-core, started as tests/web/browser.test.ts does): signed in by
// the login URL, Pause posts in place (htmx) and the row says paused, a
// worker then claims nothing from that queue while another queue runs,
// Resume lets its jobs run and the counts follow without a reload; the
// overview marks the paused queue. Screenshots go to tests/artifacts/.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { launchChromium, openSignedInPage } from "../helpers/browser.ts";
import { Worker } from "../../src/worker/worker.ts";
import { createApp, DEFAULT_MAX_BODY_BYTES } from "../../src/web/app.tsx";
import { serveApp, type ServedApp } from "../../src/web/server.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { waitFor } from "../helpers/wait.ts";
import { Queue } from "../../src/queue/client.ts";
import { TEST_TOKEN } from "./helpers.ts";

const ARTIFACTS = join(import.meta.dir, "..", "artifacts");

let db: TestDatabase;
let queue: Queue;
let worker: Worker;
let dashboard: ServedApp;
let browser: Browser;
const alerts: string[] = [];

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  db = await createTestDatabase({ max: 10 });
  queue = new Queue(db.sql);
  worker = new Worker({ sql: db.sql, handlers: { noop: async () => ({}) }, concurrency: 4, pollIntervalMs: 200 });
  worker.on("error", () => {});
  await worker.start();
  const app = createApp({ queue, sql: db.sql, token: TEST_TOKEN });
  dashboard = serveApp(app, { hostname: "127.0.0.1", port: 0, maxRequestBodySize: DEFAULT_MAX_BODY_BYTES });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await dashboard?.stop();
  await worker?.stop({ timeoutMs: 1000 });
  await db?.drop();
}, 30_000);

const openPage = (width: number, height: number) => openSignedInPage(browser, dashboard.url, TEST_TOKEN, { width, height }, alerts);

const counts = async (name: string) => {
  const rows = await db.sql`SELECT status, count(*)::int AS n FROM claude_jobs WHERE queue = ${name} GROUP BY status`;
  return Object.fromEntries(rows.map((r) => [r.status as string, r.n as number]));
};

describe("the queues page in chromium", () => {
  test("Pause in place, nothing claimed while paused, Resume runs the jobs; counts follow live", async () => {
    await queue.enqueue({ kind: "noop", queue: "reports", payload: {} });
    await waitFor("the first job to run", async () => (await counts("reports")).finished === 1);
    const page = await openPage(1280, 800);
    await page.goto(`${dashboard.url}/queues`);
    const row = page.locator('tr[data-queue="reports"]');
    await row.waitFor();
    expect(await row.getAttribute("data-paused")).toBe("false");

    await row.locator('button[data-action="pause"]').click();
    await page.locator('tr[data-queue="reports"][data-paused="true"]').waitFor({ timeout: 10_000 });
    expect(new URL(page.url()).pathname).toBe("/queues"); // swapped in place, no navigation
    expect(await page.locator("#queues-live .notice").textContent()).toContain("Queue reports paused");
    const [state] = await db.sql`SELECT paused_by FROM claude_job_queues WHERE name = 'reports' AND paused_at IS NOT NULL`;
    expect(String(state!.paused_by)).toStartWith("dashboard@127.0.0.1");

    // While paused: its new jobs wait, another queue's run, and the page shows them queued without a reload.
    await queue.enqueueMany(Array.from({ length: 5 }, () => ({ kind: "noop", queue: "reports", payload: {} })));
    await queue.enqueue({ kind: "noop", queue: "other", payload: {} });
    await waitFor("the other queue's job to run", async () => (await counts("other")).finished === 1);
    await page.locator('tr[data-queue="reports"] td:nth-child(4)', { hasText: "5" }).waitFor({ timeout: 10_000 });
    expect(await counts("reports")).toEqual({ finished: 1, queued: 5 });
    await page.screenshot({ path: join(ARTIFACTS, "queues-paused-desktop.png"), fullPage: true });

    // The overview marks it.
    await page.goto(`${dashboard.url}/`);
    await page.locator('#overview-live tr[data-queue="reports"][data-paused="true"] .badge.s-paused').waitFor({ timeout: 10_000 });

    await page.goto(`${dashboard.url}/queues`);
    await page.locator('tr[data-queue="reports"] button[data-action="resume"]').click();
    await page.locator('tr[data-queue="reports"][data-paused="false"]').waitFor({ timeout: 10_000 });
    await waitFor("the resumed queue to drain", async () => (await counts("reports")).finished === 6);
    await page.locator('tr[data-queue="reports"] td:nth-child(4)', { hasText: "0" }).waitFor({ timeout: 10_000 });
    expect(alerts).toEqual([]);
    await page.close();
  }, 60_000);

  test("at phone width the table keeps the queue, its state and the button", async () => {
    const page = await openPage(390, 800);
    await page.goto(`${dashboard.url}/queues`);
    const button = page.locator('tr[data-queue="reports"] button[data-action]');
    await button.waitFor();
    expect(await button.isVisible()).toBe(true);
    // On the screen, not past the edge of a table that scrolls sideways.
    const box = (await button.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(ARTIFACTS, "queues-phone.png"), fullPage: true });
    await page.close();
  }, 30_000);
});
