// Deno: a Wasm source-phase import gives the compiled WebAssembly.Module with no
// --allow-read permission (reading the file with Deno.readFileSync would need one).
import source wasmModule from '../wasm/tidepool_bg.wasm';
import { initSync } from '../wasm/tidepool.js';

initSync({ module: wasmModule });

export { ready, init } from './loaded.js';
export * from '../index.js';
