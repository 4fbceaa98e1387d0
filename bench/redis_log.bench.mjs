// RedisEventLog benchmarks against a real redis-server behind the Upstash-compatible gateway
// (both started here on 127.0.0.1, stopped at the end):
//   1. HTTP requests per operation, counted at the gateway: an append awaited alone, 1,000
//      appends issued together, a read, a query.
//   2. Appends per second from 4 processes (each with 10 tasks awaiting each append in turn),
//      alternating rounds with a baseline that sends one request per append (a minimal script:
//      INCR the counter, XADD; no eviction, no retry safety).
//   3. `read({ since, limit: 10 })` at random cursors with 100k resident events, side by side
//      with InMemoryEventLog holding the same 100k events; and the Redis read at 1k resident,
//      to show the cost does not grow with the log.
// `node bench/redis_log.bench.mjs writer` is the writer process of 2 (env URL, TOKEN, KEY, MODE, COUNT).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RedisEventLog, RedisRestClient, InMemoryEventLog } from '../pkg/entry/node.js';
import { redisUnavailableReason, startRedisWithGateway } from '../tests/helpers/redis.mjs';
import { median } from './measure.mjs';

const TOKEN = 'bench-token';
const PROCESSES = 4;
const CONCURRENCY = 10;
const APPENDS_PER_PROCESS = 1500;
const ROUNDS = 3;
const RESIDENT = 100_000;
const READS = 300;

/** The baseline: one request per append, the least a shared log needs (id counter + stream). */
const NAIVE_APPEND = `local id = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], id .. '-0', 'kind', ARGV[1], 'ts', ARGV[2], 'payload', ARGV[3])
return id`;

const payload = (i) => ({ tool: 'search', query: `${'q'.repeat(40)}${i}`, turn: i });

if (process.argv[2] === 'writer') {
  const { URL: url, TOKEN: token, KEY: key, MODE: mode, COUNT: count } = process.env;
  const client = new RedisRestClient({ url, token });
  const log = new RedisEventLog({ client, key, maxEntries: 1_000_000 });
  const append = mode === 'tidepool'
    ? (i) => log.append('tool.invoked', payload(i))
    : (i) => client.evalScript(NAIVE_APPEND, [key, `${key}:naive-id`], ['tool.invoked', String(Date.now() / 1000), JSON.stringify(payload(i))]);
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < Number(count)) await append(next++);
  }));
  console.log(JSON.stringify({ requests: client.stats().requests }));
  process.exit(0);
}

const reason = redisUnavailableReason();
if (reason) {
  console.log(`redis log bench skipped: ${reason}`);
  process.exit(0);
}

function writer(servers, key, mode) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'writer'], {
      env: { ...process.env, URL: servers.url, TOKEN, KEY: key, MODE: mode, COUNT: String(APPENDS_PER_PROCESS) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim())) : reject(new Error(`writer exited ${code}`))));
  });
}

/** Appends per second when PROCESSES writer processes run at once. */
async function processRate(servers, key, mode) {
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: PROCESSES }, () => writer(servers, key, mode)));
  const seconds = (performance.now() - started) / 1000;
  const requests = results.reduce((sum, r) => sum + r.requests, 0);
  return { rate: (PROCESSES * APPENDS_PER_PROCESS) / seconds, requests };
}

const requestsSince = async (gateway) => Object.values(await gateway.counts()).reduce((a, b) => a + b, 0);

const servers = await startRedisWithGateway({ token: TOKEN });
try {
  const client = new RedisRestClient({ url: servers.url, token: TOKEN });

  // 1. Requests per operation (scripts cached first).
  const counted = new RedisEventLog({ client, key: 'bench:count' });
  await counted.append('warm', {});
  await counted.read({ since: 0 });
  await servers.gateway.resetCounts();
  for (let i = 0; i < 100; i++) await counted.append('tool.invoked', payload(i));
  const single = (await requestsSince(servers.gateway)) / 100;
  await servers.gateway.resetCounts();
  await Promise.all(Array.from({ length: 1000 }, (_, i) => counted.append('tool.invoked', payload(i))));
  const batched = await requestsSince(servers.gateway);
  await servers.gateway.resetCounts();
  await counted.read({ since: 500, limit: 100 });
  const readRequests = await requestsSince(servers.gateway);
  await servers.gateway.resetCounts();
  await counted.query({ since: 500, limit: 100 });
  const queryRequests = await requestsSince(servers.gateway);
  console.log(`requests at the server: an append awaited alone -> ${single}; 1,000 appends issued together -> ${batched}; ` +
    `read -> ${readRequests}; query -> ${queryRequests}`);

  // 2. Appends per second from PROCESSES processes, tidepool and the one-request-per-append baseline alternating.
  const rates = { tidepool: [], naive: [] };
  let requestsPerAppend = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const ours = await processRate(servers, `bench:rate:${round}`, 'tidepool');
    rates.tidepool.push(ours.rate);
    requestsPerAppend = ours.requests / (PROCESSES * APPENDS_PER_PROCESS);
    rates.naive.push((await processRate(servers, `bench:naive:${round}`, 'naive')).rate);
    const check = await new RedisEventLog({ client, key: `bench:rate:${round}` }).stats();
    if (check.appended !== PROCESSES * APPENDS_PER_PROCESS || check.lastId !== check.appended) throw new Error(`appends lost or doubled: ${JSON.stringify(check)}`);
    await client.command(['FLUSHDB']);
  }
  const ours = median(rates.tidepool);
  const naive = median(rates.naive);
  console.log(`appends/s from ${PROCESSES} processes x ${CONCURRENCY} tasks (${APPENDS_PER_PROCESS} each, median of ${ROUNDS}): ` +
    `tidepool ${ours.toFixed(0)} (${requestsPerAppend.toFixed(2)} requests per append), one request per append ${naive.toFixed(0)}: ` +
    `${(ours / naive).toFixed(2)}x`);

  // 3. read({ since, limit: 10 }) at 100k resident: Redis against the in-memory log.
  const big = new RedisEventLog({ client, key: 'bench:big', maxEntries: RESIDENT });
  const memory = new InMemoryEventLog({ maxEntries: RESIDENT });
  for (let i = 0; i < RESIDENT; i += 500) {
    await Promise.all(Array.from({ length: 500 }, (_, j) => big.append('tool.invoked', payload(i + j))));
  }
  for (let i = 0; i < RESIDENT; i++) memory.append('tool.invoked', payload(i));
  const small = new RedisEventLog({ client, key: 'bench:small', maxEntries: 1000 });
  await Promise.all(Array.from({ length: 1000 }, (_, i) => small.append('tool.invoked', payload(i))));
  const cursors = Array.from({ length: READS }, () => Math.floor(Math.random() * (RESIDENT - 10)));
  const time = async (read, cursorOf) => {
    const started = performance.now();
    for (const cursor of cursors) {
      const page = await read({ since: cursorOf(cursor), limit: 10 });
      if (page.events.length !== 10) throw new Error(`read returned ${page.events.length} events`);
    }
    return ((performance.now() - started) * 1000) / READS;
  };
  const times = { redis: [], memory: [], small: [] };
  for (let round = 0; round < 5; round++) {
    times.redis.push(await time(big.read, (c) => c));
    times.memory.push(await time(memory.read, (c) => c));
    times.small.push(await time(small.read, (c) => c % 990));
  }
  const [redisUs, memoryUs, smallUs] = [median(times.redis), median(times.memory), median(times.small)];
  console.log(`read({ since, limit: 10 }) at ${RESIDENT.toLocaleString('en-US')} resident, random cursors (median of 5 x ${READS}): ` +
    `RedisEventLog ${redisUs.toFixed(0)} µs, InMemoryEventLog ${memoryUs.toFixed(1)} µs (${(redisUs / memoryUs).toFixed(0)}x slower: an HTTP round trip); ` +
    `RedisEventLog at 1,000 resident ${smallUs.toFixed(0)} µs (100k / 1k: ${(redisUs / smallUs).toFixed(2)}x)`);
} finally {
  await servers.stop();
}
