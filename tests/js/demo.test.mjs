// The demo page (npm run demo) in Chromium: it loads the built package and drives an EventBuffer.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDemoServer } from '../../scripts/demo.mjs';
import { launchChromium } from '../helpers/chromium.mjs';

let server;
let browser;
before(async () => {
  server = await startDemoServer();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

test('the demo page adds, drops and drains events', async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  await page.goto(`${server.url}/`);
  await page.waitForSelector('body[data-ready="true"]');
  assert.equal(await page.textContent('#max-size'), '25');
  for (let i = 0; i < 3; i++) await page.click('#add');
  assert.equal(await page.textContent('#size'), '25');
  assert.equal(await page.textContent('#dropped'), '5');
  await page.click('#drain-summaries');
  assert.match(await page.textContent('#output'), /explored the dashboard/);
  await page.click('#drain');
  assert.match(await page.textContent('#output'), /^Session ps_10\d — 1 actions\n\[0\] click: Clicked button #\d+ — https/);
  assert.equal(await page.textContent('#size'), '0');
  assert.equal(await page.textContent('#drained'), '25');
  assert.deepEqual(errors, []);
  await page.close();
});
