// The same RedisEventBuffer from the installed package in Deno and in workerd (Miniflare),
// against the same redis-server and gateway as Node.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { Miniflare } from 'miniflare';
import { RedisEventBuffer } from '../../pkg/entry/node.js';
import { prepareConsumer, repoRoot } from '../helpers/consumer.mjs';
import { redisUnavailableReason, startRedisWithGateway } from '../helpers/redis.mjs';
import { run } from '../helpers/run.mjs';

const TOKEN = 'runtimes-token';
const unavailable = redisUnavailableReason();
let servers;
let consumer;

before(async () => {
  if (unavailable) return;
  servers = await startRedisWithGateway({ token: TOKEN });
  consumer = await prepareConsumer('redis-consumer');
});
after(async () => servers?.stop());

const summary = (text) => ({ type: 'summary', session_id: 'node', summary: text, forwarded_at: 1 });

describe('RedisEventBuffer in other runtimes', { skip: unavailable ?? false }, () => {
  test('Deno: drains what Node added, adds what Node drains', async () => {
    const node = new RedisEventBuffer({ url: servers.url, token: TOKEN, keyPrefix: 'to-deno' });
    await Promise.all(['n1', 'n2'].map((t) => node.add(summary(t))));
    const result = await run(join(repoRoot, 'node_modules', '.bin', 'deno'), [
      'run', '--no-prompt', `--allow-net=127.0.0.1:${new URL(servers.url).port}`,
      '--allow-env=UPSTASH_REDIS_REST_URL,UPSTASH_REDIS_REST_TOKEN,DRAIN_PREFIX,ADD_PREFIX', join('redis', 'deno.mjs'),
    ], {
      cwd: consumer.dir,
      env: { NO_COLOR: '1', UPSTASH_REDIS_REST_URL: servers.url, UPSTASH_REDIS_REST_TOKEN: TOKEN, DRAIN_PREFIX: 'to-deno', ADD_PREFIX: 'from-deno' },
    });
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout.trim().split('\n').at(-1));
    assert.deepEqual(out.drained, ['n1', 'n2']);
    assert.equal(out.stats.stored, 3);
    const fromDeno = await new RedisEventBuffer({ url: servers.url, token: TOKEN, keyPrefix: 'from-deno' }).drain();
    assert.deepEqual(fromDeno.map((p) => p.summary), ['deno-1 ü😀', 'deno-2 ü😀', 'deno-3 ü😀']);
  });

  test('workerd (Miniflare, bundled as wrangler does): adds and drains through the env bindings', async () => {
    const outdir = join(consumer.dir, 'redis-worker-dist');
    await esbuild.build({
      entryPoints: [join(consumer.dir, 'redis', 'worker.mjs')], bundle: true, format: 'esm', platform: 'neutral',
      conditions: ['workerd', 'worker', 'browser'], loader: { '.wasm': 'copy' }, outdir, logLevel: 'warning',
    });
    const mf = new Miniflare({
      modules: true,
      scriptPath: join(outdir, 'worker.js'),
      modulesRules: [{ type: 'ESModule', include: ['**/*.js'] }, { type: 'CompiledWasm', include: ['**/*.wasm'] }],
      compatibilityDate: '2026-01-01',
      bindings: { UPSTASH_REDIS_REST_URL: servers.url, UPSTASH_REDIS_REST_TOKEN: TOKEN },
    });
    try {
      const node = new RedisEventBuffer({ url: servers.url, token: TOKEN, keyPrefix: 'to-workerd' });
      await node.add(summary('n1'));
      let response = await mf.dispatchFetch('http://worker/drain?prefix=to-workerd', { method: 'POST' });
      assert.equal(response.status, 200, await response.clone().text());
      const drainedByWorker = await response.json();
      assert.deepEqual(drainedByWorker.drained, ['n1'], JSON.stringify(drainedByWorker.stats));
      response = await mf.dispatchFetch('http://worker/add?prefix=from-workerd', { method: 'POST' });
      assert.equal(response.status, 200, await response.clone().text());
      assert.equal((await response.json()).stats.stored, 3);
      const fromWorker = await new RedisEventBuffer({ url: servers.url, token: TOKEN, keyPrefix: 'from-workerd' }).drain();
      assert.deepEqual(fromWorker.map((p) => p.summary), ['workerd-1', 'workerd-2', 'workerd-3']);
    } finally {
      await mf.dispose();
    }
  });
});
