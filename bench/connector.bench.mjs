// ConnectorClient benchmarks (node --expose-gc), each side by side with its baseline in one
// process:
//   1. Parse and dispatch a recorded connector stream of 100k events (ids, JSON data lines, a
//      heartbeat every 1000 events, some non-ASCII text), cut into 16 KiB network-sized chunks:
//      tidepool's SSE parser against the npm package eventsource-parser on the same bytes (it
//      parses strings, so its chunks go through a stream-mode TextDecoder first, as its
//      EventSourceParserStream does). Target: at least as fast.
//   2. One 4 MiB event fed in 16-byte chunks against the same bytes in one chunk: the cost
//      stays linear in the stream's length however many chunks an event spans.
//   3. End to end, events per second from a local node:http server into an EventBuffer:
//      ConnectorClient (validation with parsePayload, stats, queue) against a minimal client
//      (fetch + eventsource-parser's EventSourceParserStream + JSON.parse + buffer.add).
import { createServer } from 'node:http';
import { createParser } from 'eventsource-parser';
import { EventSourceParserStream } from 'eventsource-parser/stream';
import { ConnectorClient, EventBuffer, parsePayload } from '../pkg/entry/node.js';
import { SseParser } from '../pkg/sse_parser.js';
import { median, timeRounds } from './measure.mjs';

const EVENTS = 100_000;
const CHUNK = 16 * 1024;

/** The connector's payloads: alternating actions and summaries, 1 in 50 with non-ASCII text. */
function recordedStream() {
  let text = '';
  for (let n = 1; n <= EVENTS; n++) {
    const accent = n % 50 === 0 ? ' — café ✓' : '';
    const payload = n % 2
      ? {
        type: 'actions', product_id: 'prod_1', session_id: `ps_${n % 97}`, user_id: 'u_1', email: null,
        actions: [
          { title: 'Export', description: `Clicked Export${accent}`, canonical_url: 'https://app.example/reports', index: 0, type: 'click', timestamp_start: n, timestamp_end: n + 1 },
          { title: 'Form', description: 'Sent the form', canonical_url: 'https://app.example/form', index: 1, type: 'submit', timestamp_start: n + 2, timestamp_end: n + 3 },
        ],
        count: 2, forwarded_at: 1_732_190_000 + n,
      }
      : { type: 'summary', product_id: 'prod_1', session_id: `ps_${n % 97}`, summary: `The user exported the monthly report${accent}`, replaces: 2, forwarded_at: 1_732_190_000 + n };
    text += `id: ${n}\ndata: ${JSON.stringify(payload)}\n\n`;
    if (n % 1000 === 0) text += 'event: heartbeat\ndata: {}\n\n';
  }
  const bytes = new TextEncoder().encode(text);
  const chunks = [];
  for (let i = 0; i < bytes.length; i += CHUNK) chunks.push(bytes.subarray(i, i + CHUNK));
  return { bytes, chunks };
}

const { bytes, chunks } = recordedStream();
const mb = (bytes.length / 2 ** 20).toFixed(1);

// 1. Parse and dispatch.
function withTidepool(input) {
  let events = 0;
  let length = 0;
  const parser = new SseParser({
    onEvent: (data, type) => {
      events += 1;
      length += data.length + type.length;
    },
    maxEventBytes: 1 << 20,
  });
  for (const chunk of input) parser.feed(chunk);
  parser.end();
  return events + length;
}

function withEventsourceParser(input) {
  let events = 0;
  let length = 0;
  const parser = createParser({
    onEvent: (event) => {
      events += 1;
      length += event.data.length + (event.event ?? 'message').length;
    },
  });
  const decoder = new TextDecoder();
  for (const chunk of input) parser.feed(decoder.decode(chunk, { stream: true }));
  parser.feed(decoder.decode());
  return events + length;
}

if (withTidepool(chunks) !== withEventsourceParser(chunks)) throw new Error('the parsers disagree on the recorded stream');
const parse = timeRounds({ candidate: () => withTidepool(chunks), baseline: () => withEventsourceParser(chunks) }, 9);
const perSecond = (ms) => `${((EVENTS / ms) * 1000 / 1e6).toFixed(2)}M events/s`;
console.log(`parse + dispatch, ${EVENTS / 1000}k events (${mb} MiB in ${chunks.length} chunks of 16 KiB):`);
console.log(`  tidepool SseParser: ${parse.candidate.toFixed(1)} ms (${perSecond(parse.candidate)}); eventsource-parser 4.1.3: ${parse.baseline.toFixed(1)} ms (${perSecond(parse.baseline)})`);
console.log(`  ratio ${(parse.baseline / parse.candidate).toFixed(2)}x as fast as eventsource-parser (target: >= 1.00x)`);

// 2. Linear cost: one large event in many small chunks.
const big = new TextEncoder().encode(`data: ${'x'.repeat(4 << 20)}\n\n`);
const smallChunks = [];
for (let i = 0; i < big.length; i += 16) smallChunks.push(big.subarray(i, i + 16));
const bigOptions = { onEvent: () => {}, maxEventBytes: 8 << 20 };
const linear = timeRounds({
  candidate: () => {
    const parser = new SseParser(bigOptions);
    for (const chunk of smallChunks) parser.feed(chunk);
  },
  baseline: () => new SseParser(bigOptions).feed(big),
}, 5);
console.log(`one 4 MiB event: ${smallChunks.length} chunks of 16 bytes ${linear.candidate.toFixed(1)} ms, one chunk ${linear.baseline.toFixed(1)} ms`);
console.log(`  ratio ${(linear.candidate / linear.baseline).toFixed(1)}x (the per-chunk cost; a cost quadratic in the chunks would be ~${Math.round(smallChunks.length / 2)}x)`);

// 3. End to end from a local server into an EventBuffer.
const server = createServer((req, res) => {
  if (req.headers['last-event-id'] === String(EVENTS)) {
    res.writeHead(204).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  let i = 0;
  const write = () => {
    while (i < chunks.length) {
      if (!res.write(chunks[i++])) {
        res.once('drain', write);
        return;
      }
    }
    res.end();
  };
  write();
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}/stream/prod_1`;

async function endToEndTidepool() {
  const buffer = new EventBuffer({ maxSize: 0 });
  const client = new ConnectorClient({ url, token: 'bench', initialBackoffMs: 1 }).onActions(buffer.add).onSummary(buffer.add);
  const start = performance.now();
  await client.run();
  const ms = performance.now() - start;
  if (buffer.size !== EVENTS) throw new Error(`tidepool: ${buffer.size} events`);
  return ms;
}

async function endToEndMinimal() {
  const buffer = new EventBuffer({ maxSize: 0 });
  const start = performance.now();
  const response = await fetch(url, { headers: { authorization: 'Bearer bench', accept: 'text/event-stream' } });
  const events = response.body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream());
  for await (const event of events) {
    if (event.event === 'heartbeat') continue;
    const payload = JSON.parse(event.data);
    if (payload.type === 'actions' || payload.type === 'summary') buffer.add(payload);
  }
  const ms = performance.now() - start;
  if (buffer.size !== EVENTS) throw new Error(`minimal: ${buffer.size} events`);
  return ms;
}

await endToEndTidepool();
await endToEndMinimal();
const times = { candidate: [], baseline: [] };
for (let round = 0; round < 5; round++) {
  globalThis.gc?.();
  times.candidate.push(await endToEndTidepool());
  globalThis.gc?.();
  times.baseline.push(await endToEndMinimal());
}
server.close();
const e2e = { candidate: median(times.candidate), baseline: median(times.baseline) };
const rate = (ms) => `${Math.round((EVENTS / ms) * 1000).toLocaleString('en-US')} events/s`;
console.log(`end to end, ${EVENTS / 1000}k events from a local server into an EventBuffer:`);
console.log(`  ConnectorClient (validated with parsePayload): ${e2e.candidate.toFixed(0)} ms, ${rate(e2e.candidate)}`);
console.log(`  minimal client (fetch + EventSourceParserStream + JSON.parse, no validation): ${e2e.baseline.toFixed(0)} ms, ${rate(e2e.baseline)}`);
console.log(`  ratio ${(e2e.candidate / e2e.baseline).toFixed(2)}x the minimal client's time`);

// Where the end-to-end time goes: validating the same 100k payloads alone.
const raws = [];
new SseParser({ onEvent: (data, type) => type === 'message' && raws.push(JSON.parse(data)) }).feed(bytes);
globalThis.gc?.();
const validateStart = performance.now();
for (const raw of raws) parsePayload(raw);
const validateMs = performance.now() - validateStart;
console.log(`  of which parsePayload on the same ${raws.length / 1000}k payloads alone: ${validateMs.toFixed(0)} ms (${((validateMs * 1000) / raws.length).toFixed(1)} us/payload)`);
