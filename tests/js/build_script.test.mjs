// scripts/build.mjs on a checkout without node_modules says in one line what to run first, and
// the size report it prints (scripts/sizes.mjs) measures the real file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { run } from '../helpers/run.mjs';
import { moduleSizes } from '../../scripts/sizes.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('build without node_modules fails with one line naming what to run', async () => {
  const checkout = mkdtempSync(join(tmpdir(), 'tidepool-fresh-'));
  try {
    mkdirSync(join(checkout, 'scripts'));
    for (const file of ['build.mjs', 'sizes.mjs']) copyFileSync(join(root, 'scripts', file), join(checkout, 'scripts', file));
    const { code, stdout, stderr } = await run(process.execPath, [join(checkout, 'scripts', 'build.mjs')], { cwd: checkout });
    assert.equal(code, 1);
    assert.equal(stdout, '');
    const lines = stderr.trim().split('\n');
    assert.equal(lines.length, 1, stderr);
    assert.match(lines[0], /^build: .*npm install/);
  } finally {
    rmSync(checkout, { recursive: true, force: true });
  }
});

test('moduleSizes reports the raw, gzip and brotli sizes of the built module', () => {
  const path = join(root, 'pkg', 'wasm', 'tidepool_bg.wasm');
  const bytes = readFileSync(path);
  const sizes = moduleSizes(path);
  assert.equal(sizes.raw, bytes.length);
  assert.equal(sizes.gzip, gzipSync(bytes, { level: 9 }).length);
  assert.equal(sizes.brotli, brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length);
  assert.ok(sizes.brotli < sizes.gzip && sizes.gzip < sizes.raw);
  assert.match(sizes.text, new RegExp(`^${sizes.raw} bytes raw .* ${sizes.gzip} gzip .* ${sizes.brotli} brotli`));
});
