// Wire compatibility with the autoplay Python SDK's RedisEventBuffer (autoplay-sdk 0.13, from
// PyPI, in .venv made by scripts/setup.sh), on the same Redis: Python writes and tidepool
// drains, tidepool writes and Python drains, and both at once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { RedisEventBuffer, RedisRestClient, parsePayload } from '../../pkg/entry/node.js';
import { interopPython, redisUnavailableReason, repoRoot, startRedisWithGateway } from '../helpers/redis.mjs';
import { run } from '../helpers/run.mjs';

const TOKEN = 'interop-token';
const SCRIPT = join(repoRoot, 'tests', 'python', 'autoplay_redis.py');
const python = interopPython();
// CI runs scripts/setup.sh, which makes the venv: skip only where it cannot exist.
const skip = redisUnavailableReason() ?? (python ? false : 'no Python venv with autoplay-sdk (.venv): run scripts/setup.sh');
let servers;
let client;

before(async () => {
  if (skip) return;
  servers = await startRedisWithGateway({ token: TOKEN });
  client = new RedisRestClient({ url: servers.url, token: TOKEN });
});
after(async () => servers?.stop());

async function py(args, input) {
  const result = await run(python, [SCRIPT, ...args], { input: input === undefined ? undefined : JSON.stringify(input) });
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout.trim().split('\n').at(-1));
}

const PAYLOADS = [
  { type: 'summary', product_id: 'prod', session_id: 'sess-ü', summary: 'Naïve café — 😀 done', replaces: 2, forwarded_at: 1700000000.25 },
  { type: 'summary', product_id: 'prod', session_id: null, summary: 'no session: 日本語', replaces: 0, forwarded_at: 1700000001.75 },
  {
    type: 'actions', product_id: 'prod', session_id: '', user_id: 'u1', email: 'a@b.c', forwarded_at: 1700000002.5,
    actions: [
      { title: 'Ti🎉tle', description: 'Clicked “Export”', canonical_url: 'https://app/x?q=é', index: 0, type: 'click',
        timestamp_start: 1.5, timestamp_end: 2.25, raw_url: 'https://app/x', session_id: null, user_id: 'u1', email: null },
      { title: '', description: 'tab\tnewline\n quote" backslash\\ del\u007f', canonical_url: '', index: 1, type: 'pageview',
        timestamp_start: 0, timestamp_end: 0, raw_url: '', session_id: 's', user_id: null, email: null },
    ],
    count: 2,
  },
];

describe('interop with the autoplay Python SDK', { skip }, () => {
  test('Python adds (unicode, null and empty sessions), tidepool drains the same payloads', async () => {
    const prefix = 'py2tp';
    assert.deepEqual(await py(['add', servers.redis.url, prefix], PAYLOADS), { dropped: 0 });
    const buffer = new RedisEventBuffer({ client, keyPrefix: prefix });
    assert.equal(await buffer.size(), 3);
    const drained = await buffer.drain();
    // Python writes no conversation_id: it reads as null.
    assert.deepEqual(drained, PAYLOADS.map((p) => parsePayload(p)));
    assert.equal(await buffer.size(), 0);
  });

  test('tidepool adds, Python drains the same payloads', async () => {
    const prefix = 'tp2py';
    const buffer = new RedisEventBuffer({ client, keyPrefix: prefix });
    await Promise.all(PAYLOADS.map((p) => buffer.add(p)));
    const drained = await py(['drain', servers.redis.url, prefix]);
    assert.deepEqual(drained, PAYLOADS.map((p) => parsePayload(p)));
    assert.equal(await buffer.size(), 0);
  });

  // One difference by design: an integral forwarded_at is written as a float (`5.0`), as Python
  // writes the float the connector sends; Python keeps an int it was given as an int (`5`).
  test("tidepool's member JSON is byte for byte what the SDK writes (plus conversation_id)", async () => {
    const prefix = 'bytes';
    const buffer = new RedisEventBuffer({ client, keyPrefix: prefix });
    await Promise.all(PAYLOADS.map((p) => buffer.add(p)));
    const members = [];
    for (const session of ['sess-ü', '_nosession']) {
      members.push(...await client.command(['ZRANGE', `autoplay:sdk:buffer:${prefix}:${session}`, '0', '-1']));
    }
    const ours = members.map((m) => m.slice(9).replaceAll(',"conversation_id":null', ''));
    const theirs = await py(['encode'], PAYLOADS);
    assert.deepEqual(ours.sort(), theirs.sort());
  });

  test('a Python writer and a tidepool drainer at once: nothing duplicated or lost', async () => {
    const prefix = 'concurrent';
    const count = 600;
    const buffer = new RedisEventBuffer({ client, keyPrefix: prefix });
    const writer = py(['writer', servers.redis.url, prefix, String(count)]);
    let done = false;
    writer.finally(() => (done = true));
    const drained = [];
    while (!done) {
      drained.push(...(await buffer.drain()).map((p) => p.summary));
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.deepEqual(await writer, { dropped: 0 });
    drained.push(...(await buffer.drain()).map((p) => p.summary));
    assert.equal(new Set(drained).size, drained.length, 'no duplicates');
    assert.deepEqual(new Set(drained), new Set(Array.from({ length: count }, (_, i) => `py-${i}`)));
  });
});
