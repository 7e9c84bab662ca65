// The job page's Webhook deliveries in a real browser (Debian's chromium,
// headless, through playwright-core, as tests/web/browser.test.ts starts it):
// a job ended by a real worker, its event delivered after a 500 by the
// delivery task of that worker, shown with both attempts; a receiver's answer
// and a job error holding markup are text, run nothing and make no element.
// Screenshots go to tests/artifacts/.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { launchChromium } from "../helpers/browser.ts";
import { Worker } from "../../src/worker/worker.ts";
import { PermanentJobError } from "../../src/handlers/types.ts";
import { createApp, DEFAULT_MAX_BODY_BYTES } from "../../src/web/app.tsx";
import { serveApp, type ServedApp } from "../../src/web/server.ts";
import { loginUrl } from "../../src/web/security.ts";
import { Queue } from "../../src/queue/client.ts";
import { submitWithWebhook } from "../../src/notify/webhooks.ts";
import { webhookTask } from "../../src/notify/deliver.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { waitFor } from "../helpers/wait.ts";
import { TEST_TOKEN } from "../web/helpers.ts";
import { Receiver } from "./helpers.ts";

const ARTIFACTS = join(import.meta.dir, "..", "artifacts");
const EVIL = `<img src=x onerror=alert(1)><script>alert("answer")</script>`;

let db: TestDatabase;
let queue: Queue;
let worker: Worker;
let dashboard: ServedApp;
let browser: Browser;
let receiver: Receiver;
// The worker's clock runs ahead after the first attempt, past the backoff: no waiting 10 s.
let offsetMs = 0;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  db = await createTestDatabase({ max: 10 });
  queue = new Queue(db.sql);
  receiver = new Receiver();
  worker = new Worker({
    sql: db.sql, concurrency: 2, pollIntervalMs: 200, now: () => new Date(Date.now() + offsetMs),
    handlers: { breaks: async () => { throw new PermanentJobError(`bad <b>markup</b> ${EVIL}`); } },
    maintenance: [webhookTask({ everyMs: 100 })],
  });
  worker.on("error", () => {});
  await worker.start();
  dashboard = serveApp(createApp({ queue, sql: db.sql, token: TEST_TOKEN }), { hostname: "127.0.0.1", port: 0, maxRequestBodySize: DEFAULT_MAX_BODY_BYTES });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await dashboard?.stop();
  await worker?.stop({ timeoutMs: 1000 });
  receiver?.stop();
  await db?.drop();
}, 30_000);

describe("webhook deliveries on the job page, in chromium", () => {
  test("both attempts shown, the answers and the error as text; no dialog, no element made of them", async () => {
    receiver.answer({ status: 500, body: EVIL }, { status: 200, body: "thanks" });
    const [o] = await submitWithWebhook(queue, [{ kind: "breaks", payload: {}, maxAttempts: 1 }], { url: `${receiver.url}/T000/SECRETPATH` });
    const id = o!.id;
    // The clock jumps only once the failed attempt is recorded: its retry is
    // due from the clock of that moment, and a jump before it would push the
    // retry out of reach.
    await waitFor("the first attempt to be recorded", async () => receiver.requests.length === 1 &&
      (await db.sql`SELECT 1 FROM claude_job_delivery_attempts a JOIN claude_job_deliveries d ON d.id = a.delivery_id
                    WHERE d.job_id = ${id} AND a.attempt = 1 AND a.ended_at IS NOT NULL`).length === 1);
    offsetMs = 5 * 60_000;
    await waitFor("the delivery", async () => (await db.sql`SELECT state FROM claude_job_deliveries WHERE job_id = ${id}`)[0]?.state === "delivered");

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const dialogs: string[] = [];
    page.on("dialog", async (d) => { dialogs.push(d.message()); await d.dismiss(); });
    await page.goto(loginUrl(dashboard.url, TEST_TOKEN));
    await page.goto(`${dashboard.url}/jobs/${id}`);
    const section = page.locator("section[data-deliveries]");
    await section.waitFor();
    const row = section.locator("tr[data-delivery]");
    expect(await row.count()).toBe(1);
    expect(await row.locator(".badge").innerText()).toBe("delivered");
    expect(await row.innerText()).toContain("2 of 12");
    expect(await section.innerText()).not.toContain("SECRETPATH");
    await section.locator("summary").click();
    const answers = section.locator("[data-delivery-response]");
    expect(await answers.count()).toBe(2);
    expect(await answers.nth(0).innerText()).toBe(EVIL);
    expect(await answers.nth(1).innerText()).toBe("thanks");
    // Nothing of the data became an element: the page's only images and scripts are its own.
    expect(await section.locator("img, script, b").count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, "webhook-deliveries-desktop.png"), fullPage: true });
    expect(dialogs).toEqual([]);
    await page.close();
  }, 60_000);
});
