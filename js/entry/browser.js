// Browsers and bundlers: fetch and compile the module with top-level await, so importers
// receive a ready module. Bundlers (Vite, Rollup, esbuild) emit the .wasm file referenced by
// `new URL(..., import.meta.url)` as an asset.
import initWasm from '../wasm/tidepool.js';

let loading;
/** Idempotent: loads the wasm module once; every call returns the same promise. */
export function init() {
  loading ??= initWasm({
    module_or_path: new URL('../wasm/tidepool_bg.wasm', import.meta.url),
  }).then(() => undefined);
  return loading;
}
/** Resolved once the wasm module is ready. */
export const ready = init();
await ready;
export * from '../index.js';
