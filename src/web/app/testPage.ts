/** For the explorer's Chromium tests: a page on the explorer that records its uncaught errors. */
import type { Browser } from 'playwright-core';

export async function openExplorerPage(browser: Browser, url: string, section = 'input') {
  const page = await browser.newPage({ acceptDownloads: true });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForSelector(`section[aria-label=${section}]`);
  return { page, errors };
}
