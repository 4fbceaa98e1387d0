// Cloudflare Workers: the runtime (and wrangler / esbuild) imports a .wasm file as a compiled
// WebAssembly.Module; instantiating it synchronously is allowed at global scope.
import wasmModule from '../wasm/tidepool_bg.wasm';
import { initSync } from '../wasm/tidepool.js';

initSync({ module: wasmModule });

/** Resolved once the wasm module is ready (already, in this runtime). */
export const ready = Promise.resolve();
/** Idempotent; the module is already loaded in this runtime. */
export function init() {
  return ready;
}
export * from '../index.js';
