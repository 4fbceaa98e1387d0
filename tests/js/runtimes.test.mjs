// The packed package, installed into a scratch project, in every runtime it supports:
// Node, Deno, workerd (bundled by esbuild as wrangler does, and unbundled), Chromium, a Vite
// production build in Chromium, and TypeScript. Each runs tests/conformance/suite.mjs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { Miniflare } from 'miniflare';
import { build as viteBuild } from 'vite';
import { prepareConsumer, repoRoot } from '../helpers/consumer.mjs';
import { run } from '../helpers/run.mjs';
import { serveDirectory } from '../../scripts/static_server.mjs';
import { launchChromium, resultOfPage } from '../helpers/chromium.mjs';
import { conformanceCheckCount } from '../conformance/suite.mjs';

const bin = (name) => join(repoRoot, 'node_modules', '.bin', name);
let consumer;
let browser;
let server;

before(async () => {
  consumer = await prepareConsumer();
  server = await serveDirectory(consumer.dir);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

function assertAllPassed(results, runtime) {
  assert.ok(Array.isArray(results), `${runtime}: results are a list`);
  assert.deepEqual(results.filter((r) => !r.ok), [], `${runtime}: failed checks`);
  assert.equal(results.length, conformanceCheckCount, `${runtime}: every check ran`);
}

async function runMain(command, args) {
  const result = await run(command, args, { cwd: consumer.dir, env: { NO_COLOR: '1' } });
  assert.equal(result.code, 0, `${command} exited with ${result.code}:\n${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1));
}

async function runWorker(scriptPath) {
  const mf = new Miniflare({
    modules: true,
    scriptPath,
    modulesRules: [
      { type: 'ESModule', include: ['**/*.js', '**/*.mjs'] },
      { type: 'CompiledWasm', include: ['**/*.wasm'] },
    ],
    compatibilityDate: '2026-01-01',
  });
  try {
    const response = await mf.dispatchFetch('http://localhost/');
    assert.equal(response.status, 200, await response.clone().text());
    return await response.json();
  } finally {
    await mf.dispose();
  }
}

test('the tarball holds the entries, the module and the types, and no sources', () => {
  for (const file of ['package.json', 'index.d.ts', 'index.js', 'wasm/tidepool_bg.wasm', 'wasm/tidepool.js',
    'entry/node.js', 'entry/deno.js', 'entry/workerd.js', 'entry/browser.js', 'README.md',
    'event_log.js', 'activity_endpoint.js', 'event_log.d.ts', 'connector.js', 'sse_parser.js', 'connector.d.ts']) {
    assert.ok(consumer.files.includes(file), `${file} is packed`);
  }
  assert.ok(!consumer.files.some((f) => f.endsWith('.rs') || f.startsWith('src/')), 'no Rust sources');
});

test('Node (ESM) imports the installed package with no init call', async () => {
  assertAllPassed(await runMain(process.execPath, ['main.mjs']), 'node');
});

test('Deno 2 imports the installed package with no permissions', async () => {
  assertAllPassed(await runMain(bin('deno'), ['run', '--no-prompt', 'main.mjs']), 'deno');
});

test('workerd runs a Worker bundled by esbuild with the workerd condition', async () => {
  const outdir = join(consumer.dir, 'worker-dist');
  await esbuild.build({
    entryPoints: [join(consumer.dir, 'worker.mjs')],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    loader: { '.wasm': 'copy' },
    outdir,
    logLevel: 'warning',
  });
  assertAllPassed(await runWorker(join(outdir, 'worker.js')), 'workerd (bundled)');
});

test('workerd runs the package unbundled', async () => {
  assertAllPassed(await runWorker(join(consumer.dir, 'worker-unbundled.mjs')), 'workerd (unbundled)');
});

test('Chromium loads the browser entry through an import map', async () => {
  const { value, errors } = await resultOfPage(browser, `${server.url}/browser.html`, 'conformanceResults');
  assertAllPassed(value, 'chromium');
  assert.deepEqual(errors, []);
});

test('a Vite production build of a page that imports the package runs in Chromium', async () => {
  await viteBuild({
    root: join(consumer.dir, 'vite-app'),
    logLevel: 'warn',
    base: './',
    build: { outDir: join(consumer.dir, 'vite-app', 'dist'), emptyOutDir: true },
  });
  const { value, errors } = await resultOfPage(browser, `${server.url}/vite-app/dist/index.html`, 'conformanceResults');
  assertAllPassed(value, 'vite build');
  assert.deepEqual(errors, []);
});

test('TypeScript: a consumer using every export type-checks (tsc --noEmit)', async () => {
  const result = await run(bin('tsc'), ['-p', join(consumer.dir, 'tsconfig.json')]);
  assert.equal(result.code, 0, result.stdout + result.stderr);
});
