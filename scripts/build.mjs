// Builds pkg/, the npm package `tidepool`:
//   1. wasm-pack compiles the crate and runs wasm-bindgen (--target web glue: it loads in
//      Node, Deno, workerd and browsers alike);
//   2. binaryen 132's wasm-opt optimises the module (wasm-pack's own wasm-opt step is off:
//      Debian's wasm-opt 108 corrupts wasm-bindgen output, see docs/DEVELOPMENT.md);
//   3. the glue as wasm-bindgen wrote it, the module, js/ and the manifest go into pkg/;
//   4. the module's raw, gzip and brotli sizes are printed.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { moduleSizes } from './sizes.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const staging = join(root, 'build', 'wasm');
const pkg = join(root, 'pkg');
const wasmOpt = join(root, 'node_modules', '.bin', 'wasm-opt');

function fail(message) {
  console.error(`build: ${message}`);
  process.exit(1);
}

if (!existsSync(wasmOpt)) {
  fail('node_modules/.bin/wasm-opt is missing: run `npm install` first (or `npm test`, which installs everything).');
}
for (const [tool, hint] of [['cargo', 'install Rust with rustup'], ['wasm-pack', 'run `bash scripts/setup.sh`']]) {
  try {
    execFileSync(tool, ['--version'], { stdio: 'ignore' });
  } catch {
    fail(`${tool} is not on PATH (add ~/.cargo/bin to PATH, or ${hint}).`);
  }
}

function run(command, args, env = process.env) {
  execFileSync(command, args, { cwd: root, stdio: 'inherit', env });
}

// Panic messages carry source paths: the published module names files as `src/...` and
// `<crate>-<version>/src/...`, not by the build machine's directories. The caller's own
// rustflags are kept (cargo reads CARGO_ENCODED_RUSTFLAGS before RUSTFLAGS).
const rustflags = process.env.CARGO_ENCODED_RUSTFLAGS
  ? process.env.CARGO_ENCODED_RUSTFLAGS.split('\x1f')
  : (process.env.RUSTFLAGS ?? '').split(/\s+/).filter(Boolean);
const registrySources = join(process.env.CARGO_HOME ?? join(homedir(), '.cargo'), 'registry', 'src');
const sourceRoots = [root, ...(existsSync(registrySources) ? readdirSync(registrySources).map((d) => join(registrySources, d)) : [])];
const remaps = sourceRoots.map((dir) => `--remap-path-prefix=${dir}/=`);
run('wasm-pack', [
  'build', '--release', '--target', 'web', '--no-pack', '--no-typescript',
  '--out-dir', staging, '--out-name', 'tidepool',
], { ...process.env, CARGO_ENCODED_RUSTFLAGS: [...rustflags, ...remaps].join('\x1f') });

rmSync(pkg, { recursive: true, force: true });
mkdirSync(join(pkg, 'wasm'), { recursive: true });
run(wasmOpt, [
  join(staging, 'tidepool_bg.wasm'), '-Oz',
  // The features wasm-bindgen 0.2.13x output uses; not --all-features (Node 20 rejects that output).
  '--enable-bulk-memory', '--enable-sign-ext', '--enable-nontrapping-float-to-int',
  '--enable-mutable-globals', '--enable-reference-types', '--enable-multivalue',
  // Toolchain metadata no runtime reads.
  '--strip-producers', '--strip-target-features',
  '-o', join(pkg, 'wasm', 'tidepool_bg.wasm'),
]);
cpSync(join(staging, 'tidepool.js'), join(pkg, 'wasm', 'tidepool.js'));
cpSync(join(root, 'js'), pkg, { recursive: true });
cpSync(join(root, 'README.md'), join(pkg, 'README.md'));

const cargoVersion = readFileSync(join(root, 'Cargo.toml'), 'utf8').match(/^version = "(.+)"$/m)[1];
const manifest = JSON.parse(readFileSync(join(root, 'js', 'package.json'), 'utf8'));
manifest.version = cargoVersion;
writeFileSync(join(pkg, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);

const sizes = moduleSizes(join(pkg, 'wasm', 'tidepool_bg.wasm'));
console.log(`pkg/ built: tidepool_bg.wasm ${sizes.text}`);
