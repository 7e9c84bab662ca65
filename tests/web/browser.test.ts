// The dashboard in a real browser (Debian's chromium, headless, driven by
// playwright-core): signing in with the login URL (an HttpOnly cookie, the
// token gone from the address bar), a mutation with it, logout revoking it;
// live updates without a reload, cancelling a running job from its page, an
// XSS prompt that shows as text and runs nothing, and screenshots at desktop
// and phone widths (tests/artifacts/). A missing chromium fails this test:
// CI installs it (apt-get install -y chromium).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "../helpers/browser.ts";
import { Worker } from "../../src/worker/worker.ts";
import { createApp, DEFAULT_MAX_BODY_BYTES } from "../../src/web/app.tsx";
import { serveApp, type ServedApp } from "../../src/web/server.ts";
import { loginUrl } from "../../src/web/security.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { Queue } from "../../src/queue/client.ts";
import { seedShowcase } from "./showcase.ts";
import { TEST_TOKEN } from "./helpers.ts";

const ARTIFACTS = join(import.meta.dir, "..", "artifacts");
const XSS_PROMPT = `<img src=x onerror=alert(1)> and <script>alert(2)</script>`;

let db: TestDatabase;
let queue: Queue;
let worker: Worker;
let dashboard: ServedApp;
let browser: Browser;
const alerts: string[] = [];

/** A handler that runs until its job is cancelled (or the worker stops). */
const waitForAbort = ({ signal }: { signal: AbortSignal }) =>
  new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(new Error("stopped")), { once: true }));

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  db = await createTestDatabase({ max: 20 });
  queue = new Queue(db.sql);
  const logDir = mkdtempSync(join(tmpdir(), "cj-browser-logs-"));
  await seedShowcase(db, logDir);
  worker = new Worker({ sql: db.sql, handlers: { wait: waitForAbort }, concurrency: 4, pollIntervalMs: 200 });
  await worker.start();
  const app = createApp({ queue, sql: db.sql, token: TEST_TOKEN, logs: { dir: logDir } });
  dashboard = serveApp(app, { hostname: "127.0.0.1", port: 0, maxRequestBodySize: DEFAULT_MAX_BODY_BYTES });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await dashboard?.stop();
  await worker?.stop({ timeoutMs: 1000 });
  await db?.drop();
}, 30_000);

/** A page in a fresh browser context, signed in through the login URL unless `signIn` is false. */
async function openPage(width: number, height: number, signIn = true): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height }, deviceScaleFactor: width < 500 ? 2 : 1 });
  page.on("dialog", async (dialog) => {
    if (dialog.type() === "confirm") return dialog.accept();
    alerts.push(`${dialog.type()}: ${dialog.message()}`);
    await dialog.dismiss();
  });
  if (signIn) await page.goto(loginUrl(dashboard.url, TEST_TOKEN));
  return page;
}

describe("signing in", () => {
  test("the login URL sets an HttpOnly cookie and leaves the token out of the address bar; a mutation works; logout revokes the session", async () => {
    const page = await openPage(1280, 900, false);
    // Without the cookie: the login page, and the API refuses.
    await page.goto(`${dashboard.url}/jobs`);
    expect(new URL(page.url()).pathname).toBe("/login");
    expect((await page.request.get(`${dashboard.url}/api/stats`)).status()).toBe(401);

    await page.goto(loginUrl(dashboard.url, TEST_TOKEN));
    expect(page.url()).toBe(`${dashboard.url}/`);
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === "cj_session");
    expect(session).toBeDefined();
    expect(session!.httpOnly).toBe(true);
    expect(session!.sameSite).toBe("Strict");
    expect(session!.value).not.toContain(TEST_TOKEN);
    expect(await page.evaluate(() => document.cookie)).not.toContain("cj_session");

    // A mutation through the dashboard's own form.
    await page.goto(`${dashboard.url}/jobs/new`);
    await page.locator('textarea[name="prompt"]').fill("Enqueued from the browser after signing in");
    await page.locator('input[name="cwd"]').fill("/tmp");
    await page.locator('input[name="delay"]').fill("1h");
    await page.locator('form[action="/jobs"] button[type="submit"]').click();
    await page.waitForURL(/\/jobs\/[0-9a-f-]{36}\?done=enqueued$/);
    const [row] = await db.sql`SELECT count(*)::int AS n FROM claude_jobs WHERE payload->>'prompt' = 'Enqueued from the browser after signing in'`;
    expect(row!.n).toBe(1);

    // Sign out: back at the login page, and the old cookie is worth nothing.
    await page.locator('form[action="/logout"] button').click();
    await page.waitForURL(/\/login$/);
    expect((await page.context().cookies()).find((c) => c.name === "cj_session")).toBeUndefined();
    await page.context().addCookies([session!]);
    const refused = await page.request.post(`${dashboard.url}/api/jobs`, { data: { prompt: "after logout", cwd: "/tmp" } });
    expect(refused.status()).toBe(401);
    await page.goto(`${dashboard.url}/jobs/new`);
    expect(new URL(page.url()).pathname).toBe("/login");
    const [after] = await db.sql`SELECT count(*)::int AS n FROM claude_jobs WHERE payload->>'prompt' = 'after logout'`;
    expect(after!.n).toBe(0);
    await page.close();
  }, 30_000);
});

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

  test("at 1280x800 the Queues card shows every column (CANCELLED included), also with a 63-character queue name and just above the one-column width", async () => {
    const fits = async (width: number, height: number) => {
      const page = await openPage(width, height);
      await page.goto(dashboard.url + "/");
      await page.locator("#overview-live table.compact").waitFor();
      const m = await page.evaluate(() => {
        const table = document.querySelector("#overview-live table.compact") as HTMLElement;
        const wrap = table.parentElement as HTMLElement;
        const last = table.querySelector("thead th:last-child") as HTMLElement;
        return {
          scrollWidth: table.scrollWidth, clientWidth: wrap.clientWidth, wrapScroll: wrap.scrollWidth,
          lastRight: last.getBoundingClientRect().right, wrapRight: wrap.getBoundingClientRect().right, lastText: last.textContent,
        };
      });
      await page.close();
      return m;
    };
    const desktop = await fits(1280, 800);
    expect(desktop.lastText).toBe("cancelled");
    expect(desktop.scrollWidth).toBeLessThanOrEqual(desktop.clientWidth);
    expect(desktop.wrapScroll).toBeLessThanOrEqual(desktop.clientWidth);
    expect(desktop.lastRight).toBeLessThanOrEqual(desktop.wrapRight + 0.5);
    const long = await queue.enqueue({ kind: "note", queue: "q".repeat(63), payload: { prompt: "A queue with a long name" }, delay: "1h" });
    try {
      for (const [w, h] of [[1280, 800], [1001, 800]] as const) {
        const m = await fits(w, h);
        expect({ width: w, fits: m.scrollWidth <= m.clientWidth && m.lastRight <= m.wrapRight + 0.5 }).toEqual({ width: w, fits: true });
      }
    } finally {
      await db.sql`DELETE FROM claude_jobs WHERE id = ${long}`;
    }
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
