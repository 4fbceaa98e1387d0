// Builds pkg/, the npm package `tidepool`:
//   1. wasm-pack compiles the crate and runs wasm-bindgen (--target web glue: it loads in
//      Node, Deno, workerd and browsers alike);
//   2. binaryen 132's wasm-opt shrinks the module (wasm-pack's own wasm-opt step is off:
//      Debian's wasm-opt 108 corrupts wasm-bindgen output, see shared/ENVIRONMENT.md);
//   3. wasm-opt shortens the module's import and export names, and the glue is rewritten to
//      match (see minifyNames);
//   4. the glue, the module, js/ and the manifest are assembled into pkg/.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
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

/** The caller's own rustflags, kept (cargo reads CARGO_ENCODED_RUSTFLAGS before RUSTFLAGS). */
function callerRustflags() {
  const { CARGO_ENCODED_RUSTFLAGS: encoded, RUSTFLAGS: plain } = process.env;
  if (encoded) return encoded.split('\x1f');
  return plain ? plain.split(/\s+/).filter(Boolean) : [];
}

// Panic messages carry source paths; the published module should not name the build
// machine's directories (and shorter paths are smaller): crates.io sources become
// `<crate>-<version>/src/...`, this crate's `src/...`.
const cargoHome = process.env.CARGO_HOME ?? join(homedir(), '.cargo');
const registrySources = join(cargoHome, 'registry', 'src');
const remaps = [`--remap-path-prefix=${root}/=`];
if (existsSync(registrySources)) {
  for (const index of readdirSync(registrySources)) remaps.push(`--remap-path-prefix=${join(registrySources, index)}/=`);
}
execFileSync('wasm-pack', [
  'build', '--release', '--target', 'web', '--no-pack', '--no-typescript',
  '--out-dir', staging, '--out-name', 'tidepool',
], { cwd: root, stdio: 'inherit', env: { ...process.env, CARGO_ENCODED_RUSTFLAGS: [...callerRustflags(), ...remaps].join('\x1f') } });

rmSync(pkg, { recursive: true, force: true });
mkdirSync(join(pkg, 'wasm'), { recursive: true });
const wasmOpt = join(root, 'node_modules', '.bin', 'wasm-opt');
const optimised = join(staging, 'tidepool_opt.wasm');
run(wasmOpt, [
  // The producers and target_features sections are toolchain metadata no runtime reads.
  join(staging, 'tidepool_bg.wasm'), '-Oz', '--strip-producers', '--strip-target-features', ...WASM_OPT_FEATURES,
  '-o', optimised,
]);
minifyNames(optimised, join(staging, 'tidepool.js'), join(pkg, 'wasm'));
cpSync(join(root, 'js'), pkg, { recursive: true });
cpSync(join(root, 'README.md'), join(pkg, 'README.md'));

/**
 * Writes `tidepool_bg.wasm` with one- or two-letter import and export names (wasm-bindgen's
 * carry a hash each: ~3 KB of the module) and `tidepool.js`, the glue with the same names:
 * the glue is the only code that sees them (it builds the import object and calls exports as
 * `wasm.<name>`). Every rename is checked against the module, so a glue layout this does not
 * recognise fails the build rather than the first call.
 */
function minifyNames(wasmPath, gluePath, outDir) {
  const minified = join(outDir, 'tidepool_bg.wasm');
  const renames = JSON.parse(execFileSync(wasmOpt, [
    wasmPath, '--minify-imports-and-exports-and-modules', ...WASM_OPT_FEATURES, '-o', minified,
  ], { cwd: root, encoding: 'utf8' }));
  const module = new WebAssembly.Module(readFileSync(minified));
  const importModules = new Set(WebAssembly.Module.imports(module).map((i) => i.module));
  const exportNames = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  if (importModules.size !== 1) throw new Error(`expected one import module, got ${[...importModules]}`);
  const replaceOnce = (text, pattern, replacer, what) => {
    let count = 0;
    const result = text.replace(pattern, (...match) => { count += 1; return replacer(...match); });
    if (count !== 1) throw new Error(`glue: expected ${what} once, found it ${count} times`);
    return result;
  };
  let glue = readFileSync(gluePath, 'utf8');
  const [importModule] = importModules;
  glue = replaceOnce(glue, '"./tidepool_bg.js": import0', () => `${JSON.stringify(importModule)}: import0`, 'the import module');
  for (const [, name, short] of renames.imports) {
    const key = new RegExp(`^(\\s+)${name}: function`, 'm');
    glue = replaceOnce(glue, key, (whole, indent) => `${indent}${short}: function`, `import ${name}`);
  }
  const exportsByName = new Map(renames.exports);
  glue = glue.replace(/\bwasm\.([A-Za-z_$][\w$]*)/g, (whole, name) => {
    const short = exportsByName.get(name);
    if (short === undefined || !exportNames.has(short)) throw new Error(`glue calls wasm.${name}, which the module does not export`);
    return `wasm.${short}`;
  });
  writeFileSync(join(outDir, 'tidepool.js'), glue);
}

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
