// The overview's spend in a real browser (Debian's chromium, headless, driven
// by playwright-core): the chart draws one bar group per day of the last 14
// with a segment per queue and spend, the notice of an over-budget queue
// says until when, the live refresh (htmx) keeps them, and nothing raises a
// console error. Screenshot at desktop width in tests/artifacts.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { launchChromium } from "../helpers/browser.ts";
import { createApp, DEFAULT_MAX_BODY_BYTES } from "../../src/web/app.tsx";
import { serveApp, type ServedApp } from "../../src/web/server.ts";
import { loginUrl } from "../../src/web/security.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { Queue } from "../../src/queue/client.ts";
import { Budgets } from "../../src/queue/budgets.ts";
import { TEST_TOKEN } from "../web/helpers.ts";

const ARTIFACTS = join(import.meta.dir, "..", "artifacts");

let db: TestDatabase;
let dashboard: ServedApp;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  db = await createTestDatabase({ max: 10 });
  await new Budgets(db.sql).set("nightly", { dailyUsd: 5 });
  // Spend as the trigger records it, over past days (a fixture: rows, not runs).
  await db.sql`INSERT INTO claude_job_spend (queue, day, cost_usd, input_tokens, output_tokens, turns, attempts)
               SELECT q, (now() AT TIME ZONE 'UTC')::date - d, round((1 + d % 4 + length(q) / 10.0)::numeric, 2), 1000 * d, 100 * d, d, 1
               FROM unnest(ARRAY['nightly', 'reviews', 'triage']) AS q, generate_series(0, 13) AS d
               WHERE (d + length(q)) % 3 <> 0 OR d = 0`;
  await db.sql`UPDATE claude_job_spend SET cost_usd = 6.25 WHERE queue = 'nightly' AND day = (now() AT TIME ZONE 'UTC')::date`;
  const app = createApp({ queue: new Queue(db.sql), sql: db.sql, token: TEST_TOKEN, onError: () => {} });
  dashboard = serveApp(app, { hostname: "127.0.0.1", port: 0, maxRequestBodySize: DEFAULT_MAX_BODY_BYTES });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await dashboard?.stop();
  await db?.drop();
}, 30_000);

describe("the overview's spend in chromium", () => {
  test("14 days of bars per queue, the over-budget notice, kept by the live refresh, no console error", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
    const errors: string[] = [];
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(loginUrl(dashboard.url, TEST_TOKEN));
    await page.goto(`${dashboard.url}/`);
    const chart = page.locator("[data-spend-chart] > svg");
    await chart.waitFor();
    expect(await page.locator("[data-spend-chart] g[data-day]").count()).toBe(14);
    // Today has all three queues; every segment has a height.
    const today = page.locator("[data-spend-chart] g[data-day]").last();
    expect(await today.locator("rect").count()).toBe(3);
    const box = await chart.boundingBox();
    expect(box!.width).toBeGreaterThan(500);
    for (const h of await page.locator("[data-spend-chart] rect[data-queue]").evaluateAll((rs) => rs.map((r) => Number(r.getAttribute("height"))))) {
      expect(h).toBeGreaterThan(0);
    }
    // The legend names each queue next to its swatch, on one line.
    expect(await page.locator("[data-legend-queue]").allTextContents()).toEqual([" nightly   ", " reviews   ", " triage   "]);
    for (const entry of await page.locator("[data-legend-queue]").all()) {
      const [swatch, label] = [await entry.locator("svg").boundingBox(), await entry.boundingBox()];
      expect(swatch!.height).toBe(10);
      expect(label!.height).toBeLessThan(30);
    }
    const notice = page.locator('[data-over-budget="nightly"]').first();
    expect(await notice.textContent()).toMatch(/Queue nightly: over budget until 00:00 UTC \(spent \$\d+\.\d\d of \$5\.00 today\); its Claude jobs wait\./);
    await page.screenshot({ path: join(ARTIFACTS, "spend-desktop.png"), fullPage: true });
    // The fragment is re-fetched every 2 s: after a refresh the chart and notice are still there.
    await page.waitForResponse((r) => r.url().endsWith("/partials/overview"), { timeout: 5000 });
    expect(await page.locator("[data-spend-chart] g[data-day]").count()).toBe(14);
    expect(await page.locator('[data-over-budget="nightly"]').count()).toBeGreaterThan(0);
    expect(errors).toEqual([]);
    await page.close();
  }, 30_000);
});
