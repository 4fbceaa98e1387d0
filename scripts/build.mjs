// Builds pkg/, the npm package `tidepool`:
//   1. wasm-pack compiles the crate and runs wasm-bindgen (--target web glue: it loads in
//      Node, Deno, workerd and browsers alike);
//   2. binaryen 132's wasm-opt shrinks the module (wasm-pack's own wasm-opt step is off:
//      Debian's wasm-opt 108 corrupts wasm-bindgen output, see shared/ENVIRONMENT.md);
//   3. the glue, the module, js/ and the manifest are assembled into pkg/.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const staging = join(root, 'build', 'wasm');
const pkg = join(root, 'pkg');
const WASM_OPT_FEATURES = [
  '--enable-bulk-memory',
  '--enable-sign-ext',
  '--enable-nontrapping-float-to-int',
  '--enable-mutable-globals',
  '--enable-reference-types',
  '--enable-multivalue',
];

function run(command, args) {
  execFileSync(command, args, { cwd: root, stdio: 'inherit' });
}

run('wasm-pack', [
  'build', '--release', '--target', 'web', '--no-pack', '--no-typescript',
  '--out-dir', staging, '--out-name', 'tidepool',
]);

rmSync(pkg, { recursive: true, force: true });
mkdirSync(join(pkg, 'wasm'), { recursive: true });
run(join(root, 'node_modules', '.bin', 'wasm-opt'), [
  // The producers and target_features sections are toolchain metadata no runtime reads.
  join(staging, 'tidepool_bg.wasm'), '-Oz', '--strip-producers', '--strip-target-features', ...WASM_OPT_FEATURES,
  '-o', join(pkg, 'wasm', 'tidepool_bg.wasm'),
]);
cpSync(join(staging, 'tidepool.js'), join(pkg, 'wasm', 'tidepool.js'));
cpSync(join(root, 'js'), pkg, { recursive: true });
cpSync(join(root, 'README.md'), join(pkg, 'README.md'));

const cargoVersion = readFileSync(join(root, 'Cargo.toml'), 'utf8').match(/^version = "(.+)"$/m)[1];
const manifest = JSON.parse(readFileSync(join(root, 'js', 'package.json'), 'utf8'));
manifest.version = cargoVersion;
writeFileSync(join(pkg, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);

const wasm = readFileSync(join(pkg, 'wasm', 'tidepool_bg.wasm'));
const unoptimised = statSync(join(staging, 'tidepool_bg.wasm')).size;
console.log(
  `pkg/ built: tidepool_bg.wasm ${(wasm.length / 1024).toFixed(1)} KiB ` +
    `(${(gzipSync(wasm, { level: 9 }).length / 1024).toFixed(1)} KiB gzipped; ` +
    `${(unoptimised / 1024).toFixed(1)} KiB before wasm-opt)`,
);
