// Every JavaScript example in README.md runs as written against the built package: each block
// in a fresh Node process of a scratch project where `import ... from 'tidepool'` resolves to
// pkg/. A failure names the block's line. Markers choose another way to run a block
// (tests/helpers/readme.mjs, docs/DEVELOPMENT.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readmeBlocks } from '../helpers/readme.mjs';
import { run } from '../helpers/run.mjs';
import { launchChromium, resultOfPage } from '../helpers/chromium.mjs';
import { serveDirectory } from '../../scripts/static_server.mjs';
import { startRedisWithGateway } from '../helpers/redis.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const blocks = readmeBlocks(readFileSync(join(root, 'README.md'), 'utf8'));

/** A scratch project with `tidepool` linked to pkg/; removed after the suite. */
function scratchProject() {
  const dir = mkdtempSync(join(tmpdir(), 'tidepool-readme-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(join(root, 'pkg'), join(dir, 'node_modules', 'tidepool'), 'dir');
  writeFileSync(join(dir, 'package.json'), '{ "type": "module", "private": true }\n');
  return dir;
}

async function runInNode(block, project, env = {}) {
  const file = join(project, `readme-line-${block.line}.mjs`);
  writeFileSync(file, `${block.code}\n`);
  const { code, stdout, stderr } = await run(process.execPath, [file], { cwd: project, env, timeout: 60_000 });
  assert.equal(code, 0, `README.md line ${block.line}: the example exited with ${code}\n${stderr}${stdout}`);
}

/** The package's entry and sub-path exports, and its dependency `idb`, as a browser resolves them. */
const BROWSER_IMPORTS = {
  tidepool: '/pkg/entry/browser.js',
  'tidepool/persistence/indexeddb': '/pkg/persistence/indexeddb.js',
  idb: '/idb/index.js',
};

/**
 * Runs the block as a module in Chromium, `tidepool` mapped to pkg/'s browser entry; it fails
 * on an uncaught exception or a console error, and times out when the block never finishes.
 */
async function runInBrowser(block, project) {
  writeFileSync(join(project, `readme-line-${block.line}.mjs`), `${block.code}\n`);
  writeFileSync(join(project, `readme-line-${block.line}.html`), [
    '<!doctype html><meta charset="utf-8">',
    `<script type="importmap">${JSON.stringify({ imports: BROWSER_IMPORTS })}</script>`,
    '<script type="module">',
    `  import('./readme-line-${block.line}.mjs').then(() => { window.readmeDone = 'ok'; },`,
    '    (error) => { window.readmeDone = String(error && error.stack || error); });',
    '</script>',
  ].join('\n'));
  const server = await serveDirectory(project, {
    mounts: { '/pkg/': join(root, 'pkg'), '/idb/': join(root, 'node_modules', 'idb', 'build') },
  });
  const browser = await launchChromium();
  try {
    const { value, errors } = await resultOfPage(browser, `${server.url}/readme-line-${block.line}.html`, 'readmeDone', 60_000);
    assert.equal(value, 'ok', `README.md line ${block.line}: ${value}`);
    assert.deepEqual(errors, [], `README.md line ${block.line}: errors in the page`);
  } finally {
    await browser.close();
    await server.close();
  }
}

/**
 * How each marker mode runs a block. A mode without a runner fails its blocks: add the
 * runner here (e.g. 'needs redis': start redis-server and the gateway as the Redis suites
 * do, then `runInNode(block, project, { UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN })`).
 */
/** Runs the block in Node against a redis-server and REST gateway started for it (stopped after). */
async function runInNodeWithRedis(block, project) {
  const servers = await startRedisWithGateway();
  try {
    await runInNode(block, project, { UPSTASH_REDIS_REST_URL: servers.url, UPSTASH_REDIS_REST_TOKEN: servers.token });
  } finally {
    await servers.stop();
  }
}

const RUNNERS = {
  node: runInNode,
  browser: runInBrowser,
  'needs redis': runInNodeWithRedis,
};

const project = scratchProject();
test.after(() => rmSync(project, { recursive: true, force: true }));

test('readmeBlocks finds js blocks, their lines and their markers', () => {
  const markdown = [
    '# t', '```sh', 'npm test', '```', '```js', 'one()', '```',
    '<!-- readme-test: skip — needs a peer -->', '', '```javascript', 'two()', '```',
    '<!-- readme-test: needs redis -->', '```js', 'three()', '```', '```ts', 'four()', '```',
  ].join('\n');
  assert.deepEqual(readmeBlocks(markdown), [
    { line: 5, language: 'js', code: 'one()', mode: 'node', reason: '' },
    { line: 10, language: 'javascript', code: 'two()', mode: 'skip', reason: 'needs a peer' },
    { line: 14, language: 'js', code: 'three()', mode: 'needs redis', reason: '' },
  ]);
});

test('the browser runner runs a block in Chromium and reports its failure', async () => {
  const good = { line: 900001, code: "import { EventBuffer } from 'tidepool';\nnew EventBuffer().add({ type: 'summary' });" };
  await runInBrowser(good, project);
  const bad = { line: 900002, code: "import { EventBuffer } from 'tidepool';\nnew EventBuffer().add(null);" };
  await assert.rejects(runInBrowser(bad, project), /README\.md line 900002: TypeError/);
});

test('README.md has JavaScript examples to run', () => {
  assert.ok(blocks.filter((b) => b.mode === 'node').length >= 5, `${blocks.length} blocks found`);
});

for (const block of blocks) {
  const name = `README.md line ${block.line} (${block.mode})`;
  if (block.mode === 'skip') {
    test(name, { skip: block.reason || 'no reason given' }, () => {});
    if (!block.reason) test(`${name} names why it is skipped`, () => assert.fail('a skip marker needs a reason'));
    continue;
  }
  test(name, async () => {
    const runner = RUNNERS[block.mode];
    assert.ok(runner, `README.md line ${block.line}: readme-test mode '${block.mode}' has no runner in tests/js/readme.test.mjs`);
    await runner(block, project);
  });
}
