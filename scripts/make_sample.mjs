// Writes the demo's recorded session, www/sample.jsonl: ten minutes of a product and an agent
// runtime, deterministic for a seed (`node scripts/make_sample.mjs [seed] [out]`, seed 15 by
// default). The format is described in www/replay.js and README.md ("The replay demo").
//
// What it records, all on one clock (`t`, milliseconds since the epoch):
// - product sessions emitting connector payloads (actions in bursts, a summary now and then),
//   and a consumer that drains the buffer every 45 s;
// - an agent runtime's log events (turn.started, tool.invoked, tool.completed, message.sent,
//   ack.received, turn.completed);
// - the local agent ("agent-planner") sending tool calls to a worker, whose ACKs arrive in stages;
//   some are never acknowledged: after 8 s the planner marks the attempt TIMED_OUT and retries it
//   with the same idempotency token; the last calls are still unacknowledged when the recording ends;
// - tool results arriving from the worker, processed (state FULFILLED), some delivered twice.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const START = Date.UTC(2026, 10, 20, 10, 0, 0);
const DURATION_MS = 10 * 60 * 1000;

/** mulberry32: a small seeded generator, so the same seed writes the same file. */
function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateSample(seed = 15) {
  const random = seeded(seed);
  const int = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));
  const pick = (list) => list[Math.floor(random() * list.length)];
  const hex = (n) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');
  const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-${pick(['8', '9', 'a', 'b'])}${hex(3)}-${hex(12)}`;
  const token = (producer, operation, body) =>
    `${producer}:${operation}:${createHash('sha256').update(`${producer}\n${operation}\n${body}`).digest('hex').slice(0, 16)}`;

  const lines = [];
  const at = (t, line) => {
    if (t < START + DURATION_MS) lines.push({ t: Math.round(t), ...line });
  };

  // Product sessions: bursts of actions, then a summary that replaces them.
  const pages = [
    ['Opened the dashboard', 'https://app.example.com/dashboard', 'navigate'],
    ['Clicked Export', 'https://app.example.com/reports/monthly', 'click'],
    ['Typed a search query', 'https://app.example.com/search', 'type'],
    ['Submitted the invoice form', 'https://app.example.com/invoices/new', 'submit'],
    ['Opened settings', 'https://app.example.com/settings', 'navigate'],
    ['Toggled dark mode', 'https://app.example.com/settings/appearance', 'click'],
    ['Invited a teammate', 'https://app.example.com/team', 'submit'],
    ['Filtered by last 30 days', 'https://app.example.com/reports', 'click'],
  ];
  for (let s = 0; s < 6; s++) {
    const session_id = `ps_${101 + s}`;
    const user_id = s % 3 === 2 ? null : `u_${200 + s}`;
    let t = START + int(0, 30_000);
    let sinceSummary = 0;
    while (t < START + DURATION_MS) {
      const burst = int(2, 9);
      for (let b = 0; b < burst; b++) {
        const count = int(1, 4);
        const actions = Array.from({ length: count }, (_, index) => {
          const [description, canonical_url, type] = pick(pages);
          return { index, type, title: description, description, canonical_url,
            timestamp_start: (t - 2000 + index * 300) / 1000, timestamp_end: (t - 1800 + index * 300) / 1000 };
        });
        at(t, { kind: 'payload', payload: { type: 'actions', product_id: 'prod_demo', session_id, user_id,
          email: user_id ? `${user_id}@example.com` : null, actions, forwarded_at: t / 1000 } });
        sinceSummary += count;
        t += int(300, 2500);
      }
      if (random() < 0.5) {
        at(t, { kind: 'payload', payload: { type: 'summary', product_id: 'prod_demo', session_id,
          summary: `${session_id} worked through ${sinceSummary} steps, mostly on ${pick(pages)[1].split('/').pop()}.`,
          replaces: sinceSummary, forwarded_at: t / 1000 } });
        sinceSummary = 0;
      }
      t += int(15_000, 70_000);
    }
  }
  for (let t = START + 45_000; t < START + DURATION_MS; t += 45_000) at(t, { kind: 'drain' });

  // The agent runtime: turns with tool calls; every call is a message to the worker.
  const tools = ['search_docs', 'read_file', 'run_tests', 'git_commit', 'open_pr', 'summarize'];
  let sequence = 1;
  let t = START + 2_000;
  for (let turn = 1; t < START + DURATION_MS; turn++) {
    at(t, { kind: 'log', event: 'turn.started', payload: { turn, agent: 'agent-planner' } });
    t += int(200, 900);
    const calls = int(1, 3);
    for (let c = 0; c < calls; c++) {
      const tool = pick(tools);
      const body = JSON.stringify({ tool, args: { turn, call: c, query: `${tool} #${turn}.${c}` } });
      const idempotency_token = token('agent-planner', 'tool_call', body);
      const correlation_id = uuid();
      at(t, { kind: 'log', event: 'tool.invoked', payload: { turn, tool } });
      // An attempt: the envelope out, then the worker's ACKs (or silence, then a timeout and a retry).
      let sent = t;
      for (let retry = 0; retry < 3; retry++) {
        const message_id = uuid();
        at(sent, { kind: 'envelope', direction: 'out', envelope: {
          message_id, idempotency_token, correlation_id, producer_id: 'agent-planner', sequence_number: sequence++,
          retry_count: retry, message_type: 9, content_type: 'application/json', content_length: body.length,
          timestamp: { seconds: Math.floor(sent / 1000), nanos: (sent % 1000) * 1e6 }, ttl_ms: 30_000, state: 1,
          payload: body } });
        at(sent + 1, { kind: 'log', event: 'message.sent', payload: { message_id, tool, retry } });
        const fate = random();
        if (fate < 0.12 && retry < 2) {
          at(sent + 8_000, { kind: 'ack', ack: { ack_for_message_id: message_id, ack_stage: 6, error_code: 3,
            note: 'no ACK within 8 s; retrying' } });
          sent += 8_001;
          continue;
        }
        const received = sent + int(80, 600);
        at(received, { kind: 'ack', ack: { ack_for_message_id: message_id, ack_stage: 1 } });
        at(received + 1, { kind: 'log', event: 'ack.received', payload: { message_id, stage: 'RECEIVED' } });
        const read = received + int(100, 1500);
        at(read, { kind: 'ack', ack: { ack_for_message_id: message_id, ack_stage: 2 } });
        const done = read + int(500, 6000);
        const outcome = random();
        const stage = outcome < 0.82 ? 3 : outcome < 0.92 ? 4 : 5;
        at(done, { kind: 'ack', ack: { ack_for_message_id: message_id, ack_stage: stage,
          error_code: stage === 3 ? 0 : stage === 4 ? 6 : 10, note: stage === 3 ? '' : stage === 4 ? 'arguments rejected' : 'tool timed out' } });
        at(done + 1, { kind: 'log', event: 'tool.completed', payload: { turn, tool, ok: stage === 3 } });
        if (stage === 3) {
          // The worker's result comes back as a message of its own; the planner processes it.
          const result = JSON.stringify({ tool, ok: true, turn, call: c });
          const resultToken = token('agent-worker', 'tool_result', result);
          const resultAt = done + int(20, 200);
          const incoming = (id, when, retryCount) => at(when, { kind: 'envelope', direction: 'in', envelope: {
            message_id: id, idempotency_token: resultToken, correlation_id, producer_id: 'agent-worker',
            sequence_number: turn * 10 + c, retry_count: retryCount, message_type: 10, content_type: 'application/json',
            content_length: result.length, timestamp: { seconds: Math.floor(when / 1000), nanos: (when % 1000) * 1e6 },
            ttl_ms: 30_000, state: 1, payload: result } });
          const resultId = uuid();
          incoming(resultId, resultAt, 0);
          at(resultAt + int(50, 400), { kind: 'state', message_id: resultId, state: 4 });
          if (random() < 0.2) incoming(uuid(), resultAt + int(2_000, 9_000), 1);
        }
        break;
      }
      t += int(1_000, 6_000);
    }
    at(t, { kind: 'log', event: 'turn.completed', payload: { turn, calls } });
    t += int(4_000, 14_000);
  }

  lines.sort((a, b) => a.t - b.t);
  const meta = { kind: 'meta', name: 'tidepool demo sample', seed, format: 1, started_at: START, duration_ms: DURATION_MS };
  return [meta, ...lines].map((line) => JSON.stringify(line)).join('\n') + '\n';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const seed = Number(process.argv[2] ?? 15);
  const out = process.argv[3] ?? join(ROOT, 'www', 'sample.jsonl');
  const text = generateSample(seed);
  writeFileSync(out, text);
  console.log(`wrote ${out}: ${text.split('\n').length - 2} events, seed ${seed}`);
}
