// Cloudflare Workers: the runtime (and wrangler / esbuild) imports a .wasm file as a compiled
// WebAssembly.Module; instantiating it synchronously is allowed at global scope.
import wasmModule from '../wasm/tidepool_bg.wasm';
import { initSync } from '../wasm/tidepool.js';

initSync({ module: wasmModule });

export { ready, init } from './loaded.js';
export * from '../index.js';
