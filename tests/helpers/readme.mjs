// The fenced JavaScript examples of a Markdown file, with the way each is to be tested.
//
// A block is run in Node unless the line before its opening fence (blank lines aside) is a
// marker `<!-- readme-test: MODE -->`, where MODE is
//   skip — <reason>   not run (a fragment that cannot run; the reason is required)
//   needs redis       run in Node with a Redis REST gateway (UPSTASH_REDIS_REST_URL/TOKEN)
//   browser           run in Chromium
// See docs/DEVELOPMENT.md; tests/js/readme.test.mjs holds the runner of each mode.

const FENCE = /^(`{3,}|~{3,})\s*([\w-]*)/;
const JS_LANGUAGES = new Set(['js', 'javascript', 'mjs']);
const MARKER = /^<!--\s*readme-test:\s*(.*?)\s*-->$/;

/**
 * `{ line, language, code, mode, reason }` for every fenced block whose language is js,
 * javascript or mjs; `line` is the 1-based line of the opening fence.
 */
export function readmeBlocks(markdown) {
  const lines = markdown.split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i].match(FENCE);
    if (!open) continue;
    const [, fence, language] = open;
    let end = i + 1;
    while (end < lines.length && !lines[end].startsWith(fence)) end++;
    if (JS_LANGUAGES.has(language)) {
      blocks.push({ line: i + 1, language, code: lines.slice(i + 1, end).join('\n'), ...markerBefore(lines, i) });
    }
    i = end;
  }
  return blocks;
}

/** The mode the marker above line `index` names; `node` without a marker. */
function markerBefore(lines, index) {
  let at = index - 1;
  while (at >= 0 && lines[at].trim() === '') at--;
  const marker = at >= 0 ? lines[at].trim().match(MARKER) : null;
  if (!marker) return { mode: 'node', reason: '' };
  const [mode, ...reason] = marker[1].split(/\s+[—–-]\s+/);
  return { mode: mode.trim(), reason: reason.join(' - ').trim() };
}
