// A scratch project that installs the packed package tarball the way a user would
// (`npm pack` of pkg/, then `npm install` of the tarball), with the fixture files of
// tests/consumer/ and the conformance suite beside it.
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './run.mjs';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

async function npm(args, cwd) {
  const result = await run('npm', [...args, '--no-audit', '--no-fund'], { cwd });
  if (result.code !== 0) throw new Error(`npm ${args.join(' ')} failed:\n${result.stderr}`);
  return result.stdout;
}

/** Packs pkg/ and installs the tarball into a fresh .scratch/<name>; returns its path and the tarball's. */
export async function prepareConsumer(name = 'consumer') {
  const scratch = join(repoRoot, '.scratch');
  const dir = join(scratch, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const packed = JSON.parse(await npm(['pack', '--json', '--pack-destination', dir], join(repoRoot, 'pkg')));
  const tarball = join(dir, packed[0].filename);
  cpSync(join(repoRoot, 'tests', 'consumer'), dir, { recursive: true });
  cpSync(join(repoRoot, 'tests', 'conformance'), dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: `tidepool-${name}`, private: true, type: 'module', dependencies: { tidepool: `file:./${packed[0].filename}` } }),
  );
  await npm(['install', '--no-package-lock'], dir);
  return { dir, tarball, files: packed[0].files.map((f) => f.path) };
}

