// The download size of the .wasm module against the budget: 120 KB gzip for the whole
// module. Fails (exit code 1) when the budget is missed: measure what grew and why.
import { fileURLToPath } from 'node:url';
import { GZIP_BUDGET_BYTES, moduleSizes } from '../scripts/sizes.mjs';

const sizes = moduleSizes(fileURLToPath(new URL('../pkg/wasm/tidepool_bg.wasm', import.meta.url)));
const met = sizes.gzip <= GZIP_BUDGET_BYTES;
console.log(`tidepool_bg.wasm: ${sizes.text}`);
console.log(
  `gzip budget ${GZIP_BUDGET_BYTES} bytes: ${met ? 'met' : 'MISSED'}, ` +
    `${Math.abs(GZIP_BUDGET_BYTES - sizes.gzip)} bytes ${met ? 'to spare' : 'over'}`,
);
if (!met) process.exitCode = 1;
