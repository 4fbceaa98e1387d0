// A pod of the shared-dedup test (tests/js/redis_dedup.test.mjs): env URL, TOKEN, KEY, NAME,
// TOKENS (how many), START (epoch ms). Waits until START, then claims every token `t<i>` at
// once with its own message ids; prints `{ statuses: [...] }` in token order.
import { RedisDedup } from '../../pkg/entry/node.js';

const { URL: url, TOKEN: token, KEY: key, NAME: name, TOKENS: count, START: start } = process.env;
const dedup = new RedisDedup({ url, token, key });
// Warm the connection and the script cache so both pods fire at the same moment.
await dedup.claim({ message_id: `${name}-warm`, idempotency_token: `warm-${name}` });
while (Date.now() < Number(start)) await new Promise((resolve) => setTimeout(resolve, 1));
const results = await Promise.all(Array.from({ length: Number(count) }, (_, i) => dedup.claim({ message_id: `${name}-${i}`, idempotency_token: `t${i}` })));
console.log(JSON.stringify({ statuses: results.map((r) => r.status), holders: results.map((r) => r.messageId) }));
