// Node: compile the module synchronously at import, so no init call is needed.
import { readFileSync } from 'node:fs';
import { initSync } from '../wasm/tidepool.js';

initSync({ module: readFileSync(new URL('../wasm/tidepool_bg.wasm', import.meta.url)) });

/** Resolved once the wasm module is ready (already, in this runtime). */
export const ready = Promise.resolve();
/** Idempotent; the module is already loaded in this runtime. */
export function init() {
  return ready;
}
export * from '../index.js';
