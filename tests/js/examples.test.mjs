// The examples/ as a user runs them, against a local redis-server and gateway, with tidepool
// installed from the packed tarball: the Cloudflare Worker bundled as wrangler does (esbuild,
// workerd conditions) and run in workerd by Miniflare with its wrangler.toml settings; the Deno
// server as a process. Each: ingest payloads, read them back through the activity endpoint,
// drain them, and reject a bad payload.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { Miniflare } from 'miniflare';
import { prepareConsumer, repoRoot } from '../helpers/consumer.mjs';
import { redisUnavailableReason, startRedisWithGateway } from '../helpers/redis.mjs';
import { killGroup } from '../helpers/run.mjs';

const TOKEN = 'examples-token';
const unavailable = redisUnavailableReason();
let servers;
let consumer;

before(async () => {
  if (unavailable) return;
  servers = await startRedisWithGateway({ token: TOKEN });
  consumer = await prepareConsumer('examples');
  cpSync(join(repoRoot, 'examples'), join(consumer.dir, 'examples'), { recursive: true });
});
after(async () => servers?.stop());

const summary = (text) => ({ type: 'summary', product_id: 'p', session_id: 's1', summary: text, forwarded_at: 1 });

/** The scenario both examples pass: `call(path, init)` resolves to a Response. */
async function exercise(call) {
  for (const text of ['one', 'two']) {
    const response = await call('/ingest', { method: 'POST', body: JSON.stringify(summary(text)) });
    assert.equal(response.status, 202, await response.clone().text());
  }
  const bad = await call('/ingest', { method: 'POST', body: JSON.stringify({ type: 'nonsense' }) });
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).error, /type/);
  assert.equal((await call('/ingest', { method: 'POST', body: '{not json' })).status, 400);

  let page = await (await call('/activity?since=0')).json();
  assert.deepEqual(page.events.map((e) => [e.kind, e.payload.type]), [['payload.ingested', 'summary'], ['payload.ingested', 'summary']]);
  assert.equal(page.last_id, 2);
  const drained = await (await call('/drain', { method: 'POST' })).json();
  assert.deepEqual(drained.events.map((p) => p.summary), ['one', 'two']);
  assert.deepEqual((await (await call('/drain', { method: 'POST' })).json()).events, []);
  page = await (await call(`/activity?since=${page.next_since}`)).json();
  assert.deepEqual(page.events.map((e) => [e.kind, e.payload.count]), [['buffer.drained', 2], ['buffer.drained', 0]]);
  assert.equal((await call('/nowhere')).status, 404);
}

describe('examples/', { skip: unavailable ?? false, timeout: 120_000 }, () => {
  test('cloudflare-worker: bundled like wrangler, run in workerd (Miniflare) with its wrangler.toml settings', async () => {
    const dir = join(consumer.dir, 'examples', 'cloudflare-worker');
    const toml = readFileSync(join(dir, 'wrangler.toml'), 'utf8');
    const main = toml.match(/^main = "(.+)"$/m)[1];
    const compatibilityDate = toml.match(/^compatibility_date = "(.+)"$/m)[1];
    const compatibilityFlags = JSON.parse(toml.match(/^compatibility_flags = (\[.*\])$/m)[1]);
    const keyPrefix = toml.match(/^KEY_PREFIX = "(.+)"$/m)[1];
    const outdir = join(dir, 'dist');
    await esbuild.build({
      entryPoints: [join(dir, main)], bundle: true, format: 'esm', platform: 'neutral',
      conditions: ['workerd', 'worker', 'browser'], loader: { '.wasm': 'copy' }, outdir, logLevel: 'warning',
    });
    const mf = new Miniflare({
      modules: true,
      scriptPath: join(outdir, 'index.js'),
      modulesRules: [{ type: 'ESModule', include: ['**/*.js'] }, { type: 'CompiledWasm', include: ['**/*.wasm'] }],
      compatibilityDate,
      compatibilityFlags,
      bindings: { UPSTASH_REDIS_REST_URL: servers.url, UPSTASH_REDIS_REST_TOKEN: TOKEN, KEY_PREFIX: `${keyPrefix}-worker` },
    });
    try {
      await exercise((path, init) => mf.dispatchFetch(`http://worker${path}`, init));
    } finally {
      await mf.dispose();
    }
  });

  test('deno: the server as a process, over HTTP', async () => {
    const dir = join(consumer.dir, 'examples', 'deno');
    const port = new URL(servers.url).port;
    const child = spawn(join(repoRoot, 'node_modules', '.bin', 'deno'), [
      'run', '--no-prompt', '--allow-net=127.0.0.1',
      '--allow-env=UPSTASH_REDIS_REST_URL,UPSTASH_REDIS_REST_TOKEN,KEY_PREFIX,PORT', 'server.js',
    ], {
      cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', UPSTASH_REDIS_REST_URL: servers.url, UPSTASH_REDIS_REST_TOKEN: TOKEN, KEY_PREFIX: 'example-deno', PORT: '0' },
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      let output = '';
      const listening = await new Promise((resolve, reject) => {
        const onData = (chunk) => {
          output += chunk;
          const match = output.match(/listening (\d+)/);
          if (match) resolve(Number(match[1]));
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.once('exit', (code) => reject(new Error(`deno exited (${code}) before listening:\n${output}`)));
      });
      assert.notEqual(String(listening), port);
      await exercise((path, init) => fetch(`http://127.0.0.1:${listening}${path}`, init));
    } finally {
      killGroup(child.pid);
      await exited;
    }
  });
});
