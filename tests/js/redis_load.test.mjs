// Many processes on one Redis: 4 writer processes x 2,000 adds and 2 concurrent drainer
// processes, with the gateway killed and restarted mid-run. Every event is drained exactly
// once or reported to onDrop, and produced = drained + dropped.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { RedisEventBuffer, RedisRestClient } from '../../pkg/entry/node.js';
import { redisUnavailableReason, repoRoot, startGateway, startRedis } from '../helpers/redis.mjs';

const TOKEN = 'load-token';
const WORKER = join(repoRoot, 'tests', 'helpers', 'redis_worker.mjs');
const WRITERS = 4;
const ADDS = 2000;
const unavailable = redisUnavailableReason();
let redis;
let gateway;
const children = new Set();

before(async () => {
  if (unavailable) return;
  redis = await startRedis();
  gateway = await startGateway({ redisUrl: redis.url, token: TOKEN });
});
after(async () => {
  for (const child of children) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {}
  }
  await gateway?.stop();
  await redis?.stop();
});

/** Starts a worker process; `result` resolves to the JSON it prints at the end. */
function worker(role, env) {
  const child = spawn(process.execPath, [WORKER, role], {
    env: { ...process.env, URL: gateway.url, TOKEN, ...env }, stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const result = new Promise((resolve, reject) => {
    child.on('exit', (code) => {
      children.delete(child);
      if (code !== 0) return reject(new Error(`${role} exited with ${code}: ${stderr}`));
      resolve(JSON.parse(stdout.trim().split('\n').at(-1)));
    });
  });
  return { child, result };
}

describe('many processes, one Redis', { skip: unavailable ?? false }, () => {
  test('4 writers x 2,000 adds, 2 drainers, gateway killed and restarted: each event drained once or dropped', { timeout: 240_000 }, async () => {
    const prefix = 'load';
    const drainers = [worker('drainer', { PREFIX: prefix }), worker('drainer', { PREFIX: prefix })];
    const writers = Array.from({ length: WRITERS }, (_, i) => worker('writer', { PREFIX: prefix, NAME: `w${i}`, COUNT: String(ADDS) }));
    // Kill the gateway once the writers are under way (process start-up is slow on a loaded
    // machine; a fixed pause could let the outage pass before any add was sent).
    const probe = new RedisRestClient({ url: gateway.url, token: TOKEN });
    while (Number((await probe.command(['GET', `autoplay:sdk:seq:${prefix}`])) ?? 0) < 200) await new Promise((r) => setTimeout(r, 20));
    const port = gateway.port;
    await gateway.stop();
    await new Promise((r) => setTimeout(r, 700));
    gateway = await startGateway({ redisUrl: redis.url, token: TOKEN, port });
    const written = await Promise.all(writers.map((w) => w.result));
    for (const { child } of drainers) child.stdin.end();
    const drainedBy = await Promise.all(drainers.map((d) => d.result));
    const finalDrain = (await new RedisEventBuffer({ url: gateway.url, token: TOKEN, keyPrefix: prefix }).drain()).map((p) => p.summary);

    const dropped = written.flatMap((w) => w.dropped);
    const drained = [...drainedBy.flatMap((d) => d.drained), ...finalDrain];
    const produced = Array.from({ length: WRITERS }, (_, w) => Array.from({ length: ADDS }, (_, i) => `w${w}-${i}`)).flat();
    assert.equal(new Set(drained).size, drained.length, 'no event drained twice');
    assert.equal(new Set(dropped).size, dropped.length, 'no event dropped twice');
    const droppedSet = new Set(dropped);
    assert.deepEqual(drained.filter((s) => droppedSet.has(s)), [], 'no event both drained and dropped');
    assert.equal(drained.length + dropped.length, produced.length, 'produced = drained + dropped');
    assert.deepEqual(new Set([...drained, ...dropped]), new Set(produced));
    for (const { stats } of written) {
      assert.equal(stats.unsettled, 0);
      assert.equal(stats.added, stats.stored + stats.dropped.backpressure + stats.dropped.unavailable + stats.dropped.error);
    }
    assert.ok(dropped.length > 0, 'the outage dropped some adds (reported)');
    assert.ok(drained.length > ADDS, `most adds were stored and drained (${drained.length})`);
    assert.ok(drainedBy.every((d) => d.drained.length > 0), 'both drainers took part');
  });
});
