// The download size of the .wasm module, as `npm run build` reports it and `npm run bench`
// checks it against the budget.
import { readFileSync } from 'node:fs';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

/** The gzip budget for the whole module: 120 KB, read strictly as 120,000 bytes. */
export const GZIP_BUDGET_BYTES = 120_000;

const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;

/** Raw, gzip (level 9) and brotli (quality 11) sizes of the file at `path`, in bytes. */
export function moduleSizes(path) {
  const bytes = readFileSync(path);
  const raw = bytes.length;
  const gzip = gzipSync(bytes, { level: 9 }).length;
  const brotli = brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  const text = `${raw} bytes raw (${kib(raw)}), ${gzip} gzip (${kib(gzip)}), ${brotli} brotli (${kib(brotli)})`;
  return { raw, gzip, brotli, text };
}
