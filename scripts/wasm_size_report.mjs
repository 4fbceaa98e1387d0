// Where the module's code bytes go: the function bodies of the unoptimised module (which keeps
// its name section), summed by the crate and module their names start with.
//   node scripts/wasm_size_report.mjs [build/wasm/tidepool_bg.wasm] [rows]
// Sizes are before wasm-opt; compare two builds to see what a change added.
import { readFileSync } from 'node:fs';

const [path = 'build/wasm/tidepool_bg.wasm', rows = '40'] = process.argv.slice(2);
const bytes = readFileSync(path);
let at = 8; // past the magic number and version

function uleb() {
  let value = 0;
  let shift = 0;
  let byte;
  do {
    byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return value;
}
const skipName = () => { const n = uleb(); at += n; };
const limits = () => { if (uleb() & 1) uleb(); uleb(); };

let importedFunctions = 0;
const bodySizes = [];
const names = new Map();
while (at < bytes.length) {
  const id = bytes[at++];
  const end = uleb() + at;
  if (id === 2) { // imports: function imports take the first function indices
    for (let n = uleb(); n > 0; n--) {
      skipName();
      skipName();
      const kind = bytes[at++];
      if (kind === 0) { uleb(); importedFunctions++; } else if (kind === 1) { at++; limits(); } else if (kind === 2) limits(); else at += 2;
    }
  } else if (id === 10) { // code
    for (let n = uleb(); n > 0; n--) { const size = uleb(); bodySizes.push(size); at += size; }
  } else if (id === 0) { // custom: the name section's function names
    const length = uleb();
    if (bytes.subarray(at, at + length).toString() === 'name') {
      at += length;
      while (at < end) {
        const sub = bytes[at++];
        const subEnd = uleb() + at;
        if (sub === 1) {
          for (let n = uleb(); n > 0; n--) {
            const index = uleb();
            const size = uleb();
            names.set(index, bytes.subarray(at, at + size).toString());
            at += size;
          }
        }
        at = subEnd;
      }
    }
  }
  at = end;
}

const groups = new Map();
bodySizes.forEach((size, i) => {
  const name = (names.get(importedFunctions + i) ?? '?').replace(/\[[0-9a-f]+\]/g, '').replace(/^<+/, '');
  const key = name.split('::').slice(0, 2).join('::').slice(0, 60);
  groups.set(key, (groups.get(key) ?? 0) + size);
});
const total = bodySizes.reduce((sum, size) => sum + size, 0);
console.log(`${path}: ${total} bytes of code in ${bodySizes.length} functions${names.size ? '' : ' (no name section)'}`);
for (const [key, size] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, Number(rows))) {
  console.log(`${String(size).padStart(8)}  ${key}`);
}
