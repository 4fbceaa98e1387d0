// The same RedisEventBuffer and RedisEventLog from the installed package in Deno and in workerd
// (Miniflare), against the same redis-server and gateway as Node.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { Miniflare } from 'miniflare';
import { RedisEventBuffer, RedisEventLog, RedisRestClient } from '../../pkg/entry/node.js';
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

describe('RedisEventBuffer and RedisEventLog in other runtimes', { skip: unavailable ?? false }, () => {
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
  test('RedisEventLog: Node, Node, Deno and workerd append at once; ids unique, gap-free, and the same log for every reader', async () => {
    const key = `runtimes:log:${process.pid}`;
    const COUNT = 150;
    const writers = ['node-1', 'node-2', 'deno', 'workerd'];
    const TOTAL = COUNT * writers.length;
    const outdir = join(consumer.dir, 'redis-log-worker-dist');
    await esbuild.build({
      entryPoints: [join(consumer.dir, 'redis', 'log_worker.mjs')], bundle: true, format: 'esm', platform: 'neutral',
      conditions: ['workerd', 'worker', 'browser'], loader: { '.wasm': 'copy' }, outdir, logLevel: 'warning',
    });
    const mf = new Miniflare({
      modules: true,
      scriptPath: join(outdir, 'log_worker.js'),
      modulesRules: [{ type: 'ESModule', include: ['**/*.js'] }, { type: 'CompiledWasm', include: ['**/*.wasm'] }],
      compatibilityDate: '2026-01-01',
      bindings: { UPSTASH_REDIS_REST_URL: servers.url, UPSTASH_REDIS_REST_TOKEN: TOKEN },
    });
    try {
      await mf.ready;
      const env = (name) => ({ NO_COLOR: '1', UPSTASH_REDIS_REST_URL: servers.url, UPSTASH_REDIS_REST_TOKEN: TOKEN, LOG_KEY: key, NAME: name, COUNT: String(COUNT), TOTAL: String(TOTAL) });
      const parse = (result) => {
        assert.equal(result.code, 0, result.stderr);
        return JSON.parse(result.stdout.trim().split('\n').at(-1));
      };
      const deno = join(repoRoot, 'node_modules', '.bin', 'deno');
      const denoArgs = ['run', '--no-prompt', `--allow-net=127.0.0.1:${new URL(servers.url).port}`,
        '--allow-env=UPSTASH_REDIS_REST_URL,UPSTASH_REDIS_REST_TOKEN,LOG_KEY,NAME,COUNT,TOTAL', join('redis', 'log_writer.mjs')];
      const results = await Promise.all([
        run(process.execPath, [join('redis', 'log_writer.mjs')], { cwd: consumer.dir, env: env('node-1') }).then(parse),
        run(process.execPath, [join('redis', 'log_writer.mjs')], { cwd: consumer.dir, env: env('node-2') }).then(parse),
        run(deno, denoArgs, { cwd: consumer.dir, env: env('deno') }).then(parse),
        mf.dispatchFetch(`http://worker/?key=${encodeURIComponent(key)}&name=workerd&count=${COUNT}&total=${TOTAL}`, { method: 'POST' })
          .then(async (response) => {
            assert.equal(response.status, 200, await response.clone().text());
            return response.json();
          }),
      ]);
      const all = results.flatMap((r) => r.appended).sort((a, b) => a - b);
      assert.deepEqual(all, Array.from({ length: TOTAL }, (_, i) => i + 1), 'ids unique and gap-free');
      const final = (await new RedisEventLog({ client: new RedisRestClient({ url: servers.url, token: TOKEN }), key }).read({ since: 0, limit: -1 }));
      const log = final.events.map((e) => [e.id, e.payload.name, e.payload.i, e.timestamp]);
      assert.deepEqual(log.map(([id]) => id), all, 'every event is in the log, in id order');
      for (let i = 1; i < log.length; i++) assert.ok(log[i][3] >= log[i - 1][3], `timestamps follow id order at id ${log[i][0]}`);
      results.forEach((result, w) => {
        assert.deepEqual(result.seen, log, `${writers[w]} reads the same log`);
        assert.deepEqual(result.appended, [...result.appended].sort((a, b) => a - b), `${writers[w]}: its ids increase`);
        const mine = log.filter(([, name]) => name === writers[w]);
        assert.deepEqual(mine.map(([id]) => id), result.appended, `${writers[w]}: the returned ids are its events`);
        assert.deepEqual(mine.map(([, , i]) => i), Array.from({ length: COUNT }, (_, i) => i), `${writers[w]}: in its own order`);
      });
    } finally {
      await mf.dispose();
    }
  });
});
