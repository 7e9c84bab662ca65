// A worktree job's Changes in a real browser (Debian's chromium, headless,
// driven by playwright-core, as tests/web/browser.test.ts): a diff with a
// file named `<img src=x onerror=alert(1)>.txt` whose content is HTML and
// script shows both as text and runs nothing (no dialog, no element made of
// them, no CSP violation), the per-file <details> collapse and expand, the
// raw patch link opens the patch as text, and the Follow-up and Discard
// actions work through htmx without a page load. A missing chromium fails
// this test: CI installs it (apt-get install -y chromium).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "../helpers/browser.ts";
import { createApp, DEFAULT_MAX_BODY_BYTES } from "../../src/web/app.tsx";
import { serveApp, type ServedApp } from "../../src/web/server.ts";
import { loginUrl } from "../../src/web/security.ts";
import { Queue } from "../../src/queue/client.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { TEST_TOKEN } from "./helpers.ts";
import { finishedWorktreeJob, git, makeRepo, writeFiles } from "../worktree-ux/helpers.ts";

const ARTIFACTS = join(import.meta.dir, "..", "artifacts");
const HOSTILE_NAME = "<img src=x onerror=alert(1)>.txt";
const HOSTILE_LINES = ["<script>alert(2)</script>", `"><img src=x onerror=alert(3)>`, "<b onmouseover=alert(4)>bold?</b>"];

let db: TestDatabase;
let dashboard: ServedApp;
let browser: Browser;
let jobId = "";
let repo = "";
let branch = "";
const dialogs: string[] = [];
const problems: string[] = [];

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  db = await createTestDatabase();
  const made = makeRepo({ "app.ts": "export const answer = 41;\n" });
  repo = made.repo;
  const job = await finishedWorktreeJob(db, repo, made.base, (dir) => {
    writeFiles(dir, { "app.ts": "export const answer = 42;\n", [HOSTILE_NAME]: HOSTILE_LINES.join("\n") + "\n" });
  });
  jobId = job.id;
  branch = job.record.branch;
  dashboard = serveApp(createApp({ queue: new Queue(db.sql), sql: db.sql, token: TEST_TOKEN }), {
    hostname: "127.0.0.1", port: 0, maxRequestBodySize: DEFAULT_MAX_BODY_BYTES,
  });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await dashboard?.stop();
  await db?.drop();
}, 30_000);

/** A signed-in page: confirm dialogs are accepted (Discard asks), any other dialog is recorded; console errors too. */
async function openPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("dialog", async (dialog) => {
    if (dialog.type() === "confirm") return dialog.accept();
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    await dialog.dismiss();
  });
  page.on("console", (m) => { if (m.type() === "error") problems.push(m.text()); });
  page.on("pageerror", (e) => problems.push(String(e)));
  await page.goto(loginUrl(dashboard.url, TEST_TOKEN));
  return page;
}

describe("a worktree job's Changes in chromium", () => {
  test("a hostile file name and content show as text and run nothing; the details collapse and expand", async () => {
    const page = await openPage();
    await page.goto(`${dashboard.url}/jobs/${jobId}`);
    await page.locator("#job-changes").waitFor();
    const file = page.locator("details.diff-file", { has: page.locator("[data-diff-path]", { hasText: "onerror" }) });
    expect(await file.locator("[data-diff-path]").textContent()).toBe(HOSTILE_NAME);
    const lines = await file.locator("tr.add td.code").allTextContents();
    expect(lines).toEqual(HOSTILE_LINES.map((l) => `+${l}`));
    // The stat names it literally too, and nothing in the section is an element made of the data.
    expect(await page.locator("[data-diff-stat]").textContent()).toContain(HOSTILE_NAME);
    expect(await page.locator("#job-changes img, #job-changes script, #job-changes b, #job-changes [onerror], #job-changes [onmouseover]").count()).toBe(0);
    await file.locator("tr.add").last().hover();

    expect(await file.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(true);
    await file.locator("summary").click();
    expect(await file.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
    expect(await file.locator("tr.add").first().isVisible()).toBe(false);
    await file.locator("summary").click();
    expect(await file.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(true);
    expect(await file.locator("tr.add").first().isVisible()).toBe(true);

    await page.screenshot({ path: join(ARTIFACTS, "job-changes-desktop.png"), fullPage: true });
    await page.waitForTimeout(300);
    expect(dialogs).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  }, 30_000);

  test("the raw patch link opens the whole patch as text", async () => {
    const page = await openPage();
    await page.goto(`${dashboard.url}/jobs/${jobId}`);
    const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith(`/jobs/${jobId}/patch`)), page.locator("a[data-raw-patch]").first().click()]);
    expect(response.status()).toBe(200);
    expect(response.headers()["content-type"]).toBe("text/plain; charset=utf-8");
    await page.waitForURL(`${dashboard.url}/jobs/${jobId}/patch`);
    const text = await page.evaluate(() => document.body.innerText);
    expect(text).toContain(`diff --git a/${HOSTILE_NAME} b/${HOSTILE_NAME}`);
    for (const l of HOSTILE_LINES) expect(text).toContain(`+${l}`);
    expect(await page.locator("img, script, b").count()).toBe(0);
    expect(dialogs).toEqual([]);
    await page.close();
  }, 30_000);

  test("Follow-up and Discard work through htmx, without a page load", async () => {
    const page = await openPage();
    await page.goto(`${dashboard.url}/jobs/${jobId}`);
    const navigations: string[] = [];
    page.on("framenavigated", (frame) => { if (frame === page.mainFrame()) navigations.push(frame.url()); });

    await page.locator('#job-chain textarea[name="prompt"]').fill("Now write the tests <script>alert(5)</script>");
    await page.locator('#job-chain button[data-action="follow-up"]').click();
    const notice = page.locator("#job-chain [data-follow-up-enqueued]");
    await notice.waitFor({ timeout: 10_000 });
    const newId = await notice.getAttribute("data-follow-up-enqueued");
    const [row] = await db.sql`SELECT payload FROM claude_jobs WHERE id = ${newId}`;
    expect(row!.payload).toMatchObject({ prompt: "Now write the tests <script>alert(5)</script>", worktree_of: jobId });
    expect(await page.locator("#job-chain").textContent()).toContain("Now write the tests <script>alert(5)</script>");
    await page.locator("#job-chain").screenshot({ path: join(ARTIFACTS, "job-chain-desktop.png") });

    // The follow-up is queued on the branch: the same answer turned Discard off until it is out of the way.
    expect(await page.locator('button[data-action="discard"]').isDisabled()).toBe(true);
    expect(navigations).toEqual([]);
    await db.sql`UPDATE claude_jobs SET status = 'cancelled', finished_at = now() WHERE id = ${newId}`;
    await page.reload();
    navigations.length = 0;
    await page.locator('button[data-action="discard"]').click();
    await page.locator('#job-changes[data-changes-state="discarded"] [data-discarded]').waitFor({ timeout: 10_000 });
    expect(git(repo, "branch", "--list", branch)).toBe("");
    // And the follow-up form is gone with the branch.
    await page.locator("#job-chain [data-follow-up-blocked]").waitFor({ timeout: 10_000 });
    expect(navigations).toEqual([]);
    expect(dialogs).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  }, 30_000);
});
