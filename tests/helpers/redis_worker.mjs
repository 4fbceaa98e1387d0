// A writer or drainer process for the multi-process Redis tests (tests/js/redis_load.test.mjs).
//   node redis_worker.mjs writer   (env URL, TOKEN, PREFIX, NAME, COUNT): adds COUNT summaries
//     `<NAME>-<i>`, 10 per tick with a short pause, then settles; prints { dropped, stats }.
//   node redis_worker.mjs drainer  (env URL, TOKEN, PREFIX): drains until stdin closes, then
//     drains until its kept batches are released; prints { drained, stats }.
import { RedisEventBuffer } from '../../pkg/entry/node.js';

const [role] = process.argv.slice(2);
const { URL: url, TOKEN: token, PREFIX: keyPrefix, NAME: name, COUNT: count } = process.env;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

if (role === 'writer') {
  const dropped = [];
  const buffer = new RedisEventBuffer({ url, token, keyPrefix, timeoutMs: 1000, onDrop: (p) => dropped.push(p.summary) });
  for (let i = 0; i < Number(count); i += 10) {
    const tick = [];
    for (let j = i; j < Math.min(i + 10, Number(count)); j++) {
      tick.push(buffer.add({ type: 'summary', product_id: name, session_id: `${name}-s${j % 4}`, summary: `${name}-${j}`, forwarded_at: 0 }));
    }
    await Promise.all(tick);
    await sleep(3);
  }
  const deadline = Date.now() + 60_000;
  while ((await buffer.flush()) > 0 && Date.now() < deadline) await sleep(200);
  console.log(JSON.stringify({ dropped, stats: buffer.stats() }));
} else if (role === 'drainer') {
  const buffer = new RedisEventBuffer({ url, token, keyPrefix, timeoutMs: 1000 });
  const drained = [];
  let stopping = false;
  process.stdin.on('data', () => {});
  process.stdin.on('end', () => (stopping = true));
  while (!stopping) {
    drained.push(...(await buffer.drain()).map((p) => p.summary));
    await sleep(5 + Math.random() * 10);
  }
  // Drain until a drain is answered and returns nothing: any batch whose answer was lost has
  // then been returned, and every kept copy released.
  for (let i = 0; i < 100; i++) {
    const before = buffer.stats().errors;
    const batch = await buffer.drain();
    drained.push(...batch.map((p) => p.summary));
    if (batch.length === 0 && buffer.stats().errors === before) break;
    await sleep(100);
  }
  console.log(JSON.stringify({ drained, stats: buffer.stats() }));
} else {
  console.error(`unknown role ${role}`);
  process.exit(2);
}
