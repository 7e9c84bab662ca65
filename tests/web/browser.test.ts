// The dashboard in a real browser (Debian's chromium, headless, driven by
// playwright-core): live updates without a reload, cancelling a running job
// from its page, an XSS prompt that shows as text and runs nothing, and
// screenshots at desktop and phone widths (tests/artifacts/). A missing
// chromium fails this test: CI installs it (apt-get install -y chromium).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { Worker } from "../../src/worker/worker.ts";
import { startDashboard, type RunningDashboard } from "../../src/cli/commands/dashboard.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { Queue } from "../../src/queue/client.ts";
import { seedShowcase } from "./showcase.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARTIFACTS = join(import.meta.dir, "..", "artifacts");
const XSS_PROMPT = `<img src=x onerror=alert(1)> and <script>alert(2)</script>`;

let db: TestDatabase;
let queue: Queue;
let worker: Worker;
let dashboard: RunningDashboard;
let browser: Browser;
const alerts: string[] = [];

/** A handler that runs until its job is cancelled (or the worker stops). */
const waitForAbort = ({ signal }: { signal: AbortSignal }) =>
  new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(new Error("stopped")), { once: true }));

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`chromium not found at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`);
  mkdirSync(ARTIFACTS, { recursive: true });
  db = await createTestDatabase({ max: 20 });
  queue = new Queue(db.sql);
  const logDir = mkdtempSync(join(tmpdir(), "cj-browser-logs-"));
  await seedShowcase(db, logDir);
  worker = new Worker({ sql: db.sql, handlers: { wait: waitForAbort }, concurrency: 4, pollIntervalMs: 200 });
  await worker.start();
  dashboard = startDashboard(db.sql, { host: "127.0.0.1", port: 0, token: undefined, logDir });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await dashboard?.stop();
  await worker?.stop({ timeoutMs: 1000 });
  await db?.drop();
}, 30_000);

async function openPage(width: number, height: number): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height }, deviceScaleFactor: width < 500 ? 2 : 1 });
  page.on("dialog", async (dialog) => {
    if (dialog.type() === "confirm") return dialog.accept();
    alerts.push(`${dialog.type()}: ${dialog.message()}`);
    await dialog.dismiss();
  });
  return page;
}

describe("the dashboard in chromium", () => {
  test("the overview shows a job enqueued after the page loaded, without a reload", async () => {
    const page = await openPage(1280, 900);
    await page.goto(dashboard.url + "/");
    const navigations: string[] = [];
    page.on("framenavigated", (frame) => { if (frame === page.mainFrame()) navigations.push(frame.url()); });
    const id = await queue.enqueue({ kind: "later", payload: { prompt: "Arrived after the page loaded" }, delay: "1h" });
    await page.locator(`tr[data-job-id="${id}"]`).waitFor({ timeout: 10_000 });
    expect(await page.locator(`tr[data-job-id="${id}"] .prompt`).textContent()).toBe("Arrived after the page loaded");
    expect(navigations).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, "overview-desktop.png"), fullPage: true });
    await page.close();
  }, 30_000);

  test("clicking cancel on a running job stops it and the page shows it cancelled", async () => {
    const id = await queue.enqueue({ kind: "wait", payload: { prompt: "Wait until cancelled" } });
    const page = await openPage(1280, 900);
    await page.goto(`${dashboard.url}/jobs/${id}`);
    await page.locator('#job-live[data-status="running"]').waitFor({ timeout: 10_000 });
    await page.locator('button[data-action="cancel"]').click();
    await page.locator('#job-live[data-status="cancelled"]').waitFor({ timeout: 10_000 });
    expect((await queue.get(id)).status).toBe("cancelled");
    await page.close();
  }, 30_000);

  test("an XSS prompt shows as text and runs nothing", async () => {
    const id = await queue.enqueue({ kind: "note", payload: { prompt: XSS_PROMPT }, delay: "1h" });
    const page = await openPage(1280, 900);
    for (const path of [`/jobs/${id}`, "/jobs", "/"]) {
      await page.goto(dashboard.url + path);
      await page.waitForTimeout(300);
    }
    await page.goto(`${dashboard.url}/jobs/${id}`);
    expect(await page.locator("[data-prompt]").textContent()).toBe(XSS_PROMPT);
    expect(await page.locator("main img").count()).toBe(0);
    expect(alerts).toEqual([]);
    await page.close();
  }, 30_000);

  test("screenshots of the overview, the job list and a job page at desktop and phone widths", async () => {
    const [showcase] = await db.sql`SELECT id FROM claude_jobs WHERE payload->>'prompt' LIKE 'Upgrade the test suite%' LIMIT 1`;
    const shots: [string, string, number, number][] = [
      ["overview-phone", "/", 390, 844],
      ["jobs-desktop", "/jobs", 1280, 900],
      ["jobs-phone", "/jobs", 390, 844],
      ["job-desktop", `/jobs/${showcase!.id}`, 1280, 900],
      ["job-phone", `/jobs/${showcase!.id}`, 390, 844],
    ];
    for (const [name, path, width, height] of shots) {
      const page = await openPage(width, height);
      await page.goto(dashboard.url + path);
      await page.waitForTimeout(500);
      await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
      await page.close();
    }
    expect(alerts).toEqual([]);
  }, 60_000);
});
