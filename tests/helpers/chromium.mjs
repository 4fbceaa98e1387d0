// Headless Debian Chromium driven by playwright-core, quiet on a closed network.
import { chromium } from 'playwright-core';

const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: FLAGS,
  });
}

/**
 * Opens `url`, waits until `window[globalName]` is set, and returns it with the page's
 * console errors and uncaught exceptions.
 */
export async function resultOfPage(browser, url, globalName, timeout = 30_000) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
  try {
    await page.goto(url);
    await page.waitForFunction((name) => window[name] !== undefined, globalName, { timeout });
    return { value: await page.evaluate((name) => window[name], globalName), errors };
  } catch (error) {
    error.message += `\npage errors: ${errors.join('\n')}`;
    throw error;
  } finally {
    await page.close();
  }
}
