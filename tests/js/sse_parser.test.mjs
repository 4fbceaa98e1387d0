// The streaming SSE parser behind ConnectorClient (js/sse_parser.js), fed bytes directly:
// the specification's field rules, every split of a stream into chunks, and the event size
// limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser } from '../../pkg/sse_parser.js';

const encode = (text) => new TextEncoder().encode(text);

/** Everything the parser reports for `chunks`, in order, then `end()`. */
function parse(chunks, options = {}) {
  const out = [];
  const parser = new SseParser({
    onEvent: (data, type, id, previousId) => out.push({ data, type, id, previousId }),
    onRetry: (ms) => out.push({ retry: ms }),
    onSkip: (reason) => out.push({ skip: reason }),
    ...options,
  });
  for (const chunk of chunks) parser.feed(chunk);
  parser.end();
  return { out, lastEventId: parser.lastEventId };
}

// Every rule at once: BOM, LF / CR / CRLF line ends, multi-line data, comments, event names,
// ids (one with NUL, ignored), retry (digits only), fields without a colon, one space
// stripped, unknown fields, an event without data, 2-, 3- and 4-byte characters, an
// incomplete event at the end.
const STREAM = encode([
  '\uFEFFdata: first\r\n',
  'data:  two spaces\r\n\r\n',
  ': a comment\n',
  'event: custom\rid: 7\rdata: ü€😀\r\r',
  'id: 8\0x\n',
  'retry: 1500\nretry: 15x\nretry: -1\n',
  'data\n',
  'data:\n\n',
  'id: 9\n\n',
  'unknown: field\nevent\ndata: after-unknown\n\n',
  'data: {"type":"summary"}\n\n',
  'data: cut off',
].join(''));

const EXPECTED = [
  { data: 'first\n two spaces', type: 'message', id: '', previousId: '' },
  { data: 'ü€😀', type: 'custom', id: '7', previousId: '' },
  { retry: 1500 },
  { data: '\n', type: 'message', id: '7', previousId: '7' },
  { data: 'after-unknown', type: 'message', id: '9', previousId: '9' },
  { data: '{"type":"summary"}', type: 'message', id: '9', previousId: '9' },
  { skip: 'incomplete' },
];

test('follows the specification: fields, line ends, BOM, ids, retry, an event cut off at the end', () => {
  const { out, lastEventId } = parse([STREAM]);
  assert.deepEqual(out, EXPECTED);
  assert.equal(lastEventId, '9', 'an id-only event still sets the last event id');
});

test('the same events however the stream is split in two, at every byte position', () => {
  for (let i = 0; i <= STREAM.length; i++) {
    assert.deepEqual(parse([STREAM.subarray(0, i), STREAM.subarray(i)]).out, EXPECTED, `split at byte ${i}`);
  }
});

test('the same events when every byte is its own chunk (multi-byte characters and CR LF split)', () => {
  const chunks = [...STREAM].map((byte) => Uint8Array.of(byte));
  assert.deepEqual(parse(chunks).out, EXPECTED);
  // Empty chunks in between change nothing either.
  assert.deepEqual(parse(chunks.flatMap((c) => [c, new Uint8Array(0)])).out, EXPECTED);
});

test('a CR at the end of a chunk followed by a LF is one line end, not a blank line', () => {
  const { out } = parse([encode('data: a\r'), encode('\ndata: b\r'), encode('\n\r'), encode('\n')]);
  assert.deepEqual(out, [{ data: 'a\nb', type: 'message', id: '', previousId: '' }]);
});

test('a BOM is stripped only at the start of the stream, and again at the start of the next one', () => {
  const out = [];
  const parser = new SseParser({ onEvent: (data) => out.push(data) });
  parser.feed(encode('\uFEFFdata: a\n\n\uFEFFdata: b\n\n'));
  parser.end();
  parser.feed(Uint8Array.of(0xef));
  parser.feed(Uint8Array.of(0xbb, 0xbf, 0x64));
  parser.feed(encode('ata: c\n\n'));
  assert.deepEqual(out, ['a', 'c'], 'the second BOM is not at the start: "\\uFEFFdata" is an unknown field');
});

test('invalid UTF-8 becomes U+FFFD and does not break the lines around it', () => {
  const bytes = Uint8Array.of(...encode('data: a'), 0xff, 0xe2, 0x82, ...encode('\ndata: b\n\n'));
  for (let i = 0; i <= bytes.length; i++) {
    assert.deepEqual(parse([bytes.subarray(0, i), bytes.subarray(i)]).out.map((e) => e.data), ['a\uFFFD\uFFFD\nb'], `split at ${i}`);
  }
});

test('lastEventId: kept across streams, set from outside, and an id in an incomplete event is not kept', () => {
  const out = [];
  const parser = new SseParser({ onEvent: (data, type, id) => out.push(id), lastEventId: '3' });
  parser.feed(encode('data: a\n\nid: 4\ndata: b\n\nid: 5\ndata: cut'));
  parser.end();
  assert.equal(parser.lastEventId, '4');
  parser.feed(encode('data: c\n\n'));
  parser.setLastEventId('x');
  parser.feed(encode('data: d\n\nid\ndata: e\n\n'));
  assert.deepEqual(out, ['3', '4', '4', 'x', '']);
});

test('maxEventBytes: an event of exactly the limit is dispatched, one byte more is skipped, however split', () => {
  // An event's size: its lines with their line ends, up to the blank line that ends it.
  const event = 'id: 1\ndata: ü😀 x\n'; // 6 + 15 bytes
  const size = encode(event).length;
  assert.equal(size, 21);
  const bytes = encode(`${event}\ndata: next\n\n`);
  for (let i = 0; i <= bytes.length; i++) {
    const chunks = [bytes.subarray(0, i), bytes.subarray(i)];
    assert.deepEqual(parse(chunks, { maxEventBytes: size }).out.map((e) => e.data ?? e.skip), ['ü😀 x', 'next'], `at the limit, split at ${i}`);
    assert.deepEqual(parse(chunks, { maxEventBytes: size - 1 }).out.map((e) => e.data ?? e.skip), ['tooLarge', 'next'], `over the limit, split at ${i}`);
  }
  const crlf = encode('data: 12345\r\n\r\ndata: next\r\n\r\n');
  assert.deepEqual(parse([crlf], { maxEventBytes: 13 }).out.map((e) => e.data ?? e.skip), ['12345', 'next']);
  assert.deepEqual(parse([crlf], { maxEventBytes: 12 }).out.map((e) => e.data ?? e.skip), ['tooLarge', 'next']);
});

test('an oversized event streamed in many chunks is skipped without being kept, and parsing goes on', () => {
  // 8 MiB of one data line in 4 KiB chunks, limit 64 KiB: once over the limit its lines are
  // discarded up to the blank line, and the event after it arrives intact. Its id (sent before
  // the data) still counts as received.
  const out = [];
  const parser = new SseParser({ onEvent: (data, type, id) => out.push([data, id]), onSkip: (r) => out.push(r), maxEventBytes: 65536 });
  parser.feed(encode('id: big\ndata: '));
  const chunk = encode('x'.repeat(4096));
  for (let i = 0; i < 2048; i++) parser.feed(chunk);
  parser.feed(encode('\n\nid: after\ndata: small\n\n'));
  assert.deepEqual(out, ['tooLarge', ['small', 'after']]);
  // A skipped event that never ends is reported as too large when the stream ends.
  parser.feed(encode(`data: ${'y'.repeat(70000)}`));
  parser.end();
  assert.deepEqual(out.at(-1), 'tooLarge');
});

test('an event spanning many chunks is joined once (a 4 MiB event in 16-byte chunks parses)', () => {
  const payload = 'z'.repeat(4 << 20);
  const bytes = encode(`data: ${payload}\ndata: tail\n\n`);
  const out = [];
  const parser = new SseParser({ onEvent: (data) => out.push(data), maxEventBytes: 8 << 20 });
  for (let i = 0; i < bytes.length; i += 16) parser.feed(bytes.subarray(i, i + 16));
  assert.equal(out.length, 1);
  assert.equal(out[0].length, payload.length + 5);
  assert.ok(out[0].endsWith('z\ntail'));
});
