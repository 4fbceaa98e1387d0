// The replay demo (npm run demo) in Chromium: the counters on screen after replaying the sample
// are checked against figures computed here from the sample file by plain models of the three
// buffers, independently of the page and of the library. Screenshots at 1280x800 and at phone
// width are kept in build/test-artifacts/. Any console error or uncaught exception fails a test.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDemoServer } from '../../scripts/demo.mjs';
import { generateSample } from '../../scripts/make_sample.mjs';
import { launchChromium } from '../helpers/chromium.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ARTIFACTS = join(ROOT, 'build', 'test-artifacts');
const SAMPLE_TEXT = readFileSync(join(ROOT, 'www', 'sample.jsonl'), 'utf8');
const SAMPLE = SAMPLE_TEXT.trim().split('\n').map((line) => JSON.parse(line)).filter((line) => line.kind !== 'meta');
const SNAPSHOT_PATH = join(ROOT, 'tests', 'fixtures', 'activity_reference_snapshot.json');
// The page's defaults (www/replay.js), restated so that a change there is a visible change here.
const DEFAULTS = { bufferMaxSize: 20, logMaxEntries: 60, logTtlSeconds: 75, activityMaxItems: 40, dedupWindowS: 300 };

/** Plain models of what the page does with each line; returns the figures the page must show. */
function expectedFigures(lines, settings) {
  const buffer = { items: 0, dropped: 0, drained: 0 };
  const log = { entries: [], lastId: 0, ttl: 0, size: 0 };
  const fast = { cursor: 0, received: 0, missed: 0 };
  const slow = { cursor: 0, received: 0, missed: 0, nextAt: lines[0].t };
  const records = new Map();  // id -> { out, stage, state, ts, token }, in insertion order
  const tokens = new Map();   // token -> id of the latest record with it
  const act = { evictions: 0, dedupHits: 0, skipped: 0 };

  const evictLog = (nowS) => {
    while (log.entries.length && log.entries[0].ts < nowS - settings.logTtlSeconds) { log.entries.shift(); log.ttl++; }
    while (log.entries.length > settings.logMaxEntries) { log.entries.shift(); log.size++; }
  };
  const read = (reader, limit, nowS) => {
    evictLog(nowS);
    const after = log.entries.filter((e) => e.id > reader.cursor);
    const firstAfter = after.length ? after[0].id : log.lastId + 1;
    reader.missed += firstAfter - reader.cursor - 1;
    const got = after.slice(0, limit);
    reader.received += got.length;
    reader.cursor = got.length ? got[got.length - 1].id : log.lastId;
  };
  const settled = (r) => (r.stage >= 3 && r.stage <= 6) || (r.state >= 4 && r.state <= 7);

  for (const line of lines) {
    const now = line.t;
    if (line.kind === 'payload') {
      if (buffer.items === settings.bufferMaxSize) buffer.dropped++; else buffer.items++;
    } else if (line.kind === 'drain') {
      buffer.drained += buffer.items;
      buffer.items = 0;
    } else if (line.kind === 'log') {
      log.entries.push({ id: ++log.lastId, ts: now / 1000 });
      evictLog(now / 1000);
    } else if (line.kind === 'envelope') {
      const { message_id: id, idempotency_token: token, state } = line.envelope;
      const holder = records.get(tokens.get(token));
      if (holder && now - holder.ts <= settings.dedupWindowS * 1000) {
        act.dedupHits++;
        if (holder.state >= 4) { act.skipped++; continue; }
      }
      if (!records.has(id) && records.size >= settings.activityMaxItems) {
        const victim = [...records.keys()].find((key) => settled(records.get(key))) ?? records.keys().next().value;
        if (tokens.get(records.get(victim).token) === victim) tokens.delete(records.get(victim).token);
        records.delete(victim);
        act.evictions++;
      }
      records.set(id, { out: line.direction === 'out', stage: 0, state, ts: now, token });
      tokens.set(token, id);
    } else if (line.kind === 'ack') {
      const record = records.get(line.ack.ack_for_message_id);
      if (record && line.ack.ack_stage >= record.stage && record.stage < 3) record.stage = line.ack.ack_stage;
    } else if (line.kind === 'state') {
      const record = records.get(line.message_id);
      if (record) record.state = line.state;
    }
    read(fast, 100, now / 1000);
    if (now >= slow.nextAt) {
      while (slow.nextAt <= now) slow.nextAt += 30_000;
      read(slow, 10, now / 1000);
    }
  }
  const unacked = [...records.values()].filter((r) => r.stage <= 2);
  return {
    'eb-size': buffer.items, 'eb-dropped': buffer.dropped, 'eb-drained': buffer.drained,
    'log-last-id': log.lastId, 'log-resident': log.entries.length, 'log-evicted-ttl': log.ttl, 'log-evicted-size': log.size,
    'fast-cursor': fast.cursor, 'fast-received': fast.received, 'fast-missed': fast.missed,
    'slow-cursor': slow.cursor, 'slow-received': slow.received, 'slow-missed': slow.missed,
    'act-size': records.size, 'act-evictions': act.evictions, 'act-dedup-hits': act.dedupHits,
    'act-skipped': act.skipped, 'act-unacked': unacked.length, 'act-reconcile': unacked.filter((r) => r.out).length,
  };
}

let server;
let browser;
before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await startDemoServer();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

/** A page on the demo that records console errors and uncaught exceptions. */
async function openDemo(viewport) {
  const page = await browser.newPage({ viewport });
  const errors = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
  await page.goto(`${server.url}/`);
  await page.waitForSelector('body[data-ready="true"]');
  return { page, errors };
}

const clock = (ms) => `${Math.floor(ms / 60_000)}:${String(Math.floor(ms / 1000) % 60).padStart(2, '0')}`;

async function counters(page, ids) {
  return page.evaluate((list) => Object.fromEntries(list.map((id) => [id, Number(document.getElementById(id).textContent)])), ids);
}

test('the sample is what the seeded generator writes', () => {
  assert.equal(generateSample(15), SAMPLE_TEXT);
  const kinds = new Set(SAMPLE.map((line) => line.kind));
  assert.deepEqual([...kinds].sort(), ['ack', 'drain', 'envelope', 'log', 'payload', 'state']);
  assert.ok(SAMPLE.some((line) => line.kind === 'envelope' && line.envelope.retry_count > 0), 'retries with the same token');
});

test('replaying the sample at 100x shows the figures the models compute (1280x800)', async () => {
  const expected = expectedFigures(SAMPLE, DEFAULTS);
  // The defaults exercise every mechanism the page shows.
  for (const id of ['eb-dropped', 'log-evicted-ttl', 'log-evicted-size', 'slow-missed', 'act-evictions', 'act-skipped', 'act-reconcile']) {
    assert.ok(expected[id] > 0, `${id} is ${expected[id]} with the defaults`);
  }
  const { page, errors } = await openDemo({ width: 1280, height: 800 });
  try {
    const span = clock(SAMPLE[SAMPLE.length - 1].t - SAMPLE[0].t);
    assert.match(await page.textContent('#status'), new RegExp(`Loaded .*: ${SAMPLE.length} events over ${span}`));
    await page.selectOption('#speed', '100');
    await page.click('#play');
    await page.waitForSelector('body[data-state="ended"]', { timeout: 60_000 });
    assert.deepEqual(await counters(page, Object.keys(expected)), expected);
    assert.equal(await page.textContent('#eb-max'), String(DEFAULTS.bufferMaxSize));
    assert.match(await page.textContent('#clock'), new RegExp(`${span} / ${span} · event ${SAMPLE.length} of ${SAMPLE.length}`));
    assert.equal(await page.locator('#unacked li').count(), expected['act-unacked']);
    assert.equal(await page.locator('#chart path.series').count(), 3);
    assert.ok(await page.locator('#timeline circle').count() > 12, 'ACK marks on the timeline');
    assert.match(await page.textContent('#feed'), /EventBuffer dropped the oldest payload/);
    assert.match(await page.textContent('#dedup'), /duplicate, same token as/);
    writeFileSync(join(ARTIFACTS, 'demo-1280x800.png'), await page.screenshot({ fullPage: true }));
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test('phone width: keyboard stepping, seeking back, and a setting changed mid-replay', async () => {
  const { page, errors } = await openDemo({ width: 390, height: 844 });
  try {
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    assert.match(await page.textContent('#clock'), new RegExp(`event 3 of ${SAMPLE.length}`));
    assert.equal(await page.textContent('#log-last-id'), String(expectedFigures(SAMPLE.slice(0, 3), DEFAULTS)['log-last-id']));

    // Seek to the middle: the figures are those of the lines up to that time.
    const middle = SAMPLE[0].t + 300_000;
    await page.$eval('#seek', (el, value) => { el.value = String(value); el.dispatchEvent(new Event('input')); }, 300_000);
    const half = SAMPLE.filter((line) => line.t <= middle);
    const atHalf = expectedFigures(half, DEFAULTS);
    assert.deepEqual(await counters(page, ['eb-dropped', 'log-last-id', 'act-evictions']),
      { 'eb-dropped': atHalf['eb-dropped'], 'log-last-id': atHalf['log-last-id'], 'act-evictions': atHalf['act-evictions'] });

    // A bigger EventBuffer: the replay up to here is recomputed with it.
    await page.fill('input[name="bufferMaxSize"]', '50');
    await page.press('input[name="bufferMaxSize"]', 'Tab');
    assert.equal(await page.textContent('#eb-max'), '50');
    const bigger = expectedFigures(half, { ...DEFAULTS, bufferMaxSize: 50 });
    assert.deepEqual(await counters(page, ['eb-size', 'eb-dropped', 'eb-drained']),
      { 'eb-size': bigger['eb-size'], 'eb-dropped': bigger['eb-dropped'], 'eb-drained': bigger['eb-drained'] });

    // Refused values: the library's error is shown, the setting and every figure stay as they were.
    const ids = Object.keys(atHalf);
    const before = await counters(page, ids);
    await page.fill('input[name="activityMaxItems"]', '0');
    await page.press('input[name="activityMaxItems"]', 'Tab');
    assert.match(await page.textContent('#settings-error'), /RangeError: .*maxItems/);
    assert.equal(await page.inputValue('input[name="activityMaxItems"]'), String(DEFAULTS.activityMaxItems));
    await page.fill('input[name="bufferMaxSize"]', '2.5');
    await page.press('input[name="bufferMaxSize"]', 'Tab');
    assert.match(await page.textContent('#settings-error'), /RangeError: .*maxSize/);
    assert.equal(await page.inputValue('input[name="bufferMaxSize"]'), '50');
    assert.deepEqual(await counters(page, ids), before);

    writeFileSync(join(ARTIFACTS, 'demo-390x844.png'), await page.screenshot({ fullPage: true }));
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `no horizontal scrolling at phone width (page is ${width}px wide)`);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

/** Drops a file on the page the way a drag from the desktop does. */
async function dropFile(page, name, text) {
  await page.evaluate(([fileName, content]) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([content], fileName, { type: 'application/json' }));
    document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
  }, [name, text]);
}

test('a dropped SW4RM snapshot loads; bad files are refused and change nothing', async () => {
  const { page, errors } = await openDemo({ width: 1280, height: 800 });
  try {
    const snapshot = JSON.parse(readFileSync(SNAPSHOT_PATH, 'utf8'));
    const records = Object.values(snapshot.records);
    await dropFile(page, 'activity.json', JSON.stringify(snapshot, null, 2));
    await page.waitForFunction(() => document.body.dataset.recording === 'activity.json');
    assert.match(await page.textContent('#status'), new RegExp(`snapshot with ${records.length} records`));
    assert.deepEqual(await counters(page, ['act-size', 'act-unacked', 'act-reconcile', 'eb-size', 'log-last-id']), {
      'act-size': records.length,
      'act-unacked': records.filter((r) => r.ack_stage <= 2).length,
      'act-reconcile': records.filter((r) => r.ack_stage <= 2 && r.direction === 'out').length,
      'eb-size': 0, 'log-last-id': 0,
    });

    // A JSON Lines recording picked with the file input.
    const picked = SAMPLE.slice(0, 50);
    await page.setInputFiles('#file', { name: 'first50.jsonl', mimeType: 'application/x-ndjson',
      buffer: Buffer.from(picked.map((line) => JSON.stringify(line)).join('\n')) });
    await page.waitForFunction(() => document.body.dataset.recording === 'first50.jsonl');
    await page.selectOption('#speed', '100');
    await page.click('#play');
    await page.waitForSelector('body[data-state="ended"]');
    const small = expectedFigures(picked, DEFAULTS);
    assert.deepEqual(await counters(page, Object.keys(small)), small);

    const state = await counters(page, Object.keys(small));
    const refused = [
      ['broken.jsonl', `${JSON.stringify(SAMPLE[0])}\n{"t": 5, "kind": "payload"`, /line 2: not JSON/],
      ['backwards.jsonl', `${JSON.stringify(SAMPLE[1])}\n${JSON.stringify(SAMPLE[0])}`, /line 2: "t" goes backwards/],
      ['unknown.jsonl', '{"t": 1, "kind": "teleport"}', /line 1: unknown kind "teleport"/],
      ['bad-snapshot.json', JSON.stringify({ ...snapshot, order: [...snapshot.order, 'ghost'] }), /SnapshotError SNAPSHOT_INVALID: .*order/],
      ['empty.jsonl', '\n\n', /empty/],
    ];
    for (const [name, text, message] of refused) {
      await dropFile(page, name, text);
      await page.waitForFunction((n) => document.getElementById('status').textContent.includes(n), name);
      assert.match(await page.textContent('#status'), message, name);
      assert.equal(await page.evaluate(() => document.body.dataset.recording), 'first50.jsonl', name);
      assert.deepEqual(await counters(page, Object.keys(small)), state, name);
    }
    // Contents the library refuses are reported when the line is applied; the replay goes on.
    const bad = [SAMPLE[0], { t: SAMPLE[0].t + 1, kind: 'payload', payload: { type: 'actions', actions: [{ index: '3' }] } },
      { t: SAMPLE[0].t + 2, kind: 'payload', payload: { type: 'summary', summary: 'fine' } }];
    await dropFile(page, 'bad-payload.jsonl', bad.map((line) => JSON.stringify(line)).join('\n'));
    await page.waitForFunction(() => document.body.dataset.recording === 'bad-payload.jsonl');
    await page.click('#play');
    await page.waitForSelector('body[data-state="ended"]');
    assert.match(await page.textContent('#feed'), /event 2 \(payload\) refused: PayloadError INVALID_PAYLOAD: .*actions\[0\]\.index/);
    assert.match(await page.textContent('#status'), /1 event refused/);
    assert.equal(await page.textContent('#eb-size'), '1');
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});
