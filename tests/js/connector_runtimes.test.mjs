// ConnectorClient from the installed package in Deno, workerd (Miniflare, bundled as wrangler
// does) and Chromium, each reading the same local test connector (tests/helpers/sse_server.mjs)
// that the Node suite uses: 6 events over 2 connections (a normal end and a resume with
// Last-Event-ID), then 204.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { Miniflare } from 'miniflare';
import { prepareConsumer, repoRoot } from '../helpers/consumer.mjs';
import { run } from '../helpers/run.mjs';
import { startSseServer } from '../helpers/sse_server.mjs';
import { serveDirectory } from '../../scripts/static_server.mjs';
import { launchChromium, resultOfPage } from '../helpers/chromium.mjs';

const TOKEN = 'runtime-token';
let connector;
let consumer;
let pages;
let browser;

before(async () => {
  connector = await startSseServer({ token: TOKEN });
  consumer = await prepareConsumer('connector-consumer');
  pages = await serveDirectory(consumer.dir);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await pages?.close();
  await connector?.close();
});

function assertSmoke(result, runtime) {
  assert.deepEqual(result.forwardedAt, [1, 2, 3, 4, 5, 6], runtime);
  assert.deepEqual(result.descriptions, ['click 1 ü😀', 'click 3 ü😀', 'click 5 ü😀'], `${runtime}: UTF-8 intact`);
  assert.equal(result.tokenCalls, 3, `${runtime}: the token function is called before each connection`);
  assert.equal(result.lastEventId, '6');
  const { stats } = result;
  assert.deepEqual([stats.connects, stats.failures, stats.delivered, stats.events.heartbeat], [2, 0, 6, 2], `${runtime}: ${JSON.stringify(stats)}`);
}

/** The Last-Event-ID of the requests made since `from`: none, then 3, then 6. */
function assertResumed(from, runtime) {
  assert.deepEqual(connector.requests.slice(from).map((r) => [r.authorization, r.lastEventId]), [
    [`Bearer ${TOKEN}`, undefined], [`Bearer ${TOKEN}`, '3'], [`Bearer ${TOKEN}`, '6'],
  ], runtime);
}

describe('ConnectorClient in other runtimes', { timeout: 120_000 }, () => {
  test('Deno: reads the connector with --allow-net for its address only', async () => {
    const from = connector.requests.length;
    const result = await run(join(repoRoot, 'node_modules', '.bin', 'deno'), [
      'run', '--no-prompt', `--allow-net=127.0.0.1:${new URL(connector.url).port}`,
      '--allow-env=CONNECTOR_URL,CONNECTOR_TOKEN', join('connector', 'deno.mjs'),
    ], { cwd: consumer.dir, env: { NO_COLOR: '1', CONNECTOR_URL: `${connector.url}/stream/p`, CONNECTOR_TOKEN: TOKEN } });
    assert.equal(result.code, 0, result.stderr);
    assertSmoke(JSON.parse(result.stdout.trim().split('\n').at(-1)), 'deno');
    assertResumed(from, 'deno');
  });

  test('workerd (Miniflare, bundled by esbuild with the workerd condition)', async () => {
    const from = connector.requests.length;
    const outdir = join(consumer.dir, 'connector-worker-dist');
    await esbuild.build({
      entryPoints: [join(consumer.dir, 'connector', 'worker.mjs')], bundle: true, format: 'esm', platform: 'neutral',
      conditions: ['workerd', 'worker', 'browser'], loader: { '.wasm': 'copy' }, outdir, logLevel: 'warning',
    });
    const mf = new Miniflare({
      modules: true,
      scriptPath: join(outdir, 'worker.js'),
      modulesRules: [{ type: 'ESModule', include: ['**/*.js'] }, { type: 'CompiledWasm', include: ['**/*.wasm'] }],
      compatibilityDate: '2026-01-01',
      bindings: { CONNECTOR_URL: `${connector.url}/stream/p`, CONNECTOR_TOKEN: TOKEN },
    });
    try {
      const response = await mf.dispatchFetch('http://worker/');
      assert.equal(response.status, 200, await response.clone().text());
      assertSmoke(await response.json(), 'workerd');
    } finally {
      await mf.dispose();
    }
    assertResumed(from, 'workerd');
  });

  test('Chromium: a page on another origin reads the connector (CORS preflight for the headers)', async () => {
    const from = connector.requests.length;
    const query = new URLSearchParams({ url: `${connector.url}/stream/p`, token: TOKEN });
    const { value, errors } = await resultOfPage(browser, `${pages.url}/connector/browser.html?${query}`, 'connectorResult');
    assertSmoke(value, 'chromium');
    assert.deepEqual(errors, []);
    assertResumed(from, 'chromium');
  });
});
