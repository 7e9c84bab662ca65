// Chromium for the browser tests: Debian's package (.ci/run installs it), or
// CHROMIUM_PATH. Missing, it is a failure that says how to install it, never
// a skipped test.

import { existsSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import { loginUrl } from "../../src/web/security.ts";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`chromium not found at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}

/**
 * A page signed in through the dashboard's login URL, at a desktop or phone
 * size (a phone at device scale 2); every dialog it opens is recorded in
 * `dialogs` (a test expects none: a script run from job data would open one)
 * and dismissed.
 */
export async function openSignedInPage(
  browser: Browser, dashboardUrl: string, token: string, size: { width: number; height: number }, dialogs: string[],
): Promise<Page> {
  const page = await browser.newPage({ viewport: size, deviceScaleFactor: size.width < 500 ? 2 : 1 });
  page.on("dialog", async (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    await dialog.dismiss();
  });
  await page.goto(loginUrl(dashboardUrl, token));
  return page;
}
