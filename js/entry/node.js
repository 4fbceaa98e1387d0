// Node: compile the module synchronously at import, so no init call is needed.
import { readFileSync } from 'node:fs';
import { initSync } from '../wasm/tidepool.js';

initSync({ module: readFileSync(new URL('../wasm/tidepool_bg.wasm', import.meta.url)) });

export { ready, init } from './loaded.js';
export * from '../index.js';
