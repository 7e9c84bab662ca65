// Usage limits on the dashboard in a real browser (Debian's chromium,
// headless, through playwright-core, as tests/web/browser.test.ts starts it):
// a pause recorded while the overview is open appears as its notice without
// a reload ("Claude paused until 20:00 (usage limit)"), and goes when
// resume-now lifts it; a parked job's page says why it waits. An account
// label holding HTML is shown as text. Screenshots go to tests/artifacts/.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { launchChromium, openSignedInPage } from "../helpers/browser.ts";
import { createApp, DEFAULT_MAX_BODY_BYTES } from "../../src/web/app.tsx";
import { serveApp, type ServedApp } from "../../src/web/server.ts";
import { usagePauseRecord, usageResume } from "../../src/db/usage.ts";
import { Queue } from "../../src/queue/client.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { insertJob, TEST_TOKEN } from "./helpers.ts";

const ARTIFACTS = join(import.meta.dir, "..", "artifacts");
const KEY = "a".repeat(64);

let db: TestDatabase;
let dashboard: ServedApp;
let browser: Browser;
const alerts: string[] = [];

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  db = await createTestDatabase({ max: 5 });
  const app = createApp({ queue: new Queue(db.sql), sql: db.sql, token: TEST_TOKEN });
  dashboard = serveApp(app, { hostname: "127.0.0.1", port: 0, maxRequestBodySize: DEFAULT_MAX_BODY_BYTES });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await dashboard?.stop();
  await db?.drop();
}, 30_000);

const openPage = (width: number, height: number) => openSignedInPage(browser, dashboard.url, TEST_TOKEN, { width, height }, alerts);

describe("usage limits in chromium", () => {
  test("the overview's notice comes and goes live; a parked job's page says why it waits", async () => {
    const page = await openPage(1280, 800);
    await page.goto(`${dashboard.url}/`);
    await page.locator("#overview-live").waitFor();
    expect(await page.locator("[data-usage-paused]").count()).toBe(0);

    const until = new Date(Date.now() + 2 * 3600_000);
    await usagePauseRecord(db.sql, {
      accountKey: KEY, accountLabel: "ANTHROPIC_API_KEY, /home/<img src=x onerror=alert(1)>/.claude", until,
      reason: "waiting for the usage limit to reset", rateLimitType: "five_hour", jobId: null,
    });
    const notice = page.locator("[data-usage-paused]");
    await notice.waitFor({ timeout: 10_000 }); // the live fragment's next refresh, no reload
    expect(await notice.innerText()).toMatch(/^Claude paused until \d\d:\d\d \(usage limit\): no Claude job starts on its workers/);
    // With two accounts paused, each notice names its account: as text.
    await usagePauseRecord(db.sql, {
      accountKey: "b".repeat(64), accountLabel: "CLAUDE_CODE_OAUTH_TOKEN, /srv/.claude", until, reason: "r", rateLimitType: null, jobId: null,
    });
    await page.locator("[data-usage-paused]").nth(1).waitFor({ timeout: 10_000 });
    const texts = await page.locator("[data-usage-paused]").allInnerTexts();
    expect(texts.join("\n")).toContain("for ANTHROPIC_API_KEY, /home/<img src=x onerror=alert(1)>/.claude:");
    expect(texts.join("\n")).toContain("for CLAUDE_CODE_OAUTH_TOKEN, /srv/.claude:");
    expect(await page.locator("[data-usage-paused] img").count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, "usage-overview-desktop.png"), fullPage: true });
    const phone = await openPage(390, 844);
    await phone.goto(`${dashboard.url}/`);
    await phone.locator("[data-usage-paused]").first().waitFor();
    await phone.screenshot({ path: join(ARTIFACTS, "usage-overview-phone.png"), fullPage: true });
    await phone.close();

    await usageResume(db.sql, null);
    await page.locator("[data-usage-paused]").first().waitFor({ state: "detached", timeout: 10_000 });

    const id = await insertJob(db, {
      kind: "claude", payload: { prompt: "p", cwd: "/tmp" }, runInSeconds: 3600,
      errors: [{ attempt: 1, at: new Date().toISOString(), message: "waiting for the usage limit to reset at 20:00 (Europe/Paris): claude said \"You've hit your limit\"" }],
      result: { sessionId: crypto.randomUUID(), usageLimit: { reason: "waiting for the usage limit to reset at 20:00 (Europe/Paris)", accountKey: KEY } },
    });
    await page.goto(`${dashboard.url}/jobs/${id}`);
    expect(await page.locator("[data-usage-limit]").innerText()).toContain("Parked: waiting for the usage limit to reset at 20:00 (Europe/Paris).");
    await page.screenshot({ path: join(ARTIFACTS, "usage-job-parked.png"), fullPage: true });
    expect(alerts).toEqual([]);
    await page.close();
  }, 60_000);
});
