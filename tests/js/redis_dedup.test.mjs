// RedisDedup against a real redis-server behind the Upstash-compatible gateway: exactly one
// 'new' among concurrent claimers (two pod processes, and many instances), the reference's
// statuses, settle / release, expiry with the window, lost responses, bad input, Redis down.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { RedisDedup, RedisRestClient, RedisRestError, ActivityBuffer, EnvelopeState } from '../../pkg/entry/node.js';
import { redisUnavailableReason, repoRoot, startFaultProxy, startRedisWithGateway } from '../helpers/redis.mjs';
import { run } from '../helpers/run.mjs';

const TOKEN = 'dedup-test-token';
const unavailable = redisUnavailableReason();
let servers;
let client;
const cleanups = [];

before(async () => {
  if (unavailable) return;
  servers = await startRedisWithGateway({ token: TOKEN });
  client = new RedisRestClient({ url: servers.url, token: TOKEN });
});
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await servers?.stop();
});

let keyCounter = 0;
const freshKey = () => `dedup:${process.pid}:${keyCounter++}`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const envelope = (messageId, token, state = EnvelopeState.RECEIVED) => ({ message_id: messageId, idempotency_token: token, state, message_type: 2 });

describe('RedisDedup', { skip: unavailable ?? false, timeout: 120_000 }, () => {
  test('two pod processes claim the same 100 tokens at the same moment: exactly one new per token', async () => {
    const key = freshKey();
    const start = String(Date.now() + 1500);
    const pod = (name) => run(process.execPath, [join(repoRoot, 'tests', 'helpers', 'redis_dedup_worker.mjs')], {
      env: { URL: servers.url, TOKEN, KEY: key, NAME: name, TOKENS: '100', START: start },
    }).then((result) => {
      assert.equal(result.code, 0, result.stderr);
      return JSON.parse(result.stdout.trim().split('\n').at(-1));
    });
    const [a, b] = await Promise.all([pod('a'), pod('b')]);
    for (let i = 0; i < 100; i++) {
      const statuses = [a.statuses[i], b.statuses[i]].sort();
      assert.deepEqual(statuses, ['in_progress', 'new'], `token t${i}`);
      const winner = a.statuses[i] === 'new' ? `a-${i}` : `b-${i}`;
      assert.deepEqual([a.holders[i], b.holders[i]], [winner, winner], 'both learn the holder');
    }
  });

  test('many instances racing on one token, 20 rounds: exactly one new each round', async () => {
    const key = freshKey();
    const pods = Array.from({ length: 8 }, () => new RedisDedup({ url: servers.url, token: TOKEN, key }));
    for (let round = 0; round < 20; round++) {
      const results = await Promise.all(pods.map((pod, i) => pod.claim(envelope(`m${round}-${i}`, `race-${round}`))));
      assert.equal(results.filter((r) => r.status === 'new').length, 1, `round ${round}`);
      assert.equal(results.filter((r) => r.status === 'in_progress').length, pods.length - 1);
    }
  });

  test("the reference's statuses: new, in_progress until settled, then duplicate; release; layout", async () => {
    const key = freshKey();
    const podA = new RedisDedup({ client, key });
    const podB = new RedisDedup({ url: servers.url, token: TOKEN, key });
    assert.deepEqual(await podA.claim(envelope('m1', 'tok')), { status: 'new', messageId: 'm1' });
    assert.deepEqual(await podB.claim(envelope('m2', 'tok')), { status: 'in_progress', messageId: 'm1' });
    const hash = await client.command(['HGETALL', `${key}:tok`]);
    const fields = Object.fromEntries(Array.from({ length: hash.length / 2 }, (_, i) => [hash[2 * i], hash[2 * i + 1]]));
    assert.equal(fields.message_id, 'm1');
    assert.equal(fields.state, String(EnvelopeState.RECEIVED));
    assert.match(fields.claim, /^[0-9a-f]{32}$/);
    const ttl = await client.command(['PTTL', `${key}:tok`]);
    assert.ok(ttl > 3_590_000 && ttl <= 3_600_001, `expires with the window: ${ttl}`);

    assert.equal(await podB.settle(envelope('m2', 'tok', EnvelopeState.FULFILLED)), false, 'not the holder');
    assert.equal(await podA.settle(envelope('m1', 'tok', EnvelopeState.FULFILLED)), true);
    assert.deepEqual(await podB.claim(envelope('m3', 'tok')), { status: 'duplicate', messageId: 'm1' });
    assert.ok((await client.command(['PTTL', `${key}:tok`])) <= ttl, 'settling keeps the expiry');
    assert.equal(await podA.release(envelope('m1', 'tok')), false, 'a settled claim is not released');

    // A claim given up while in progress: the next claimer gets it.
    await podA.claim(envelope('m4', 'tok2'));
    assert.equal(await podB.release(envelope('m5', 'tok2')), false, 'only the holder releases');
    assert.equal(await podA.release(envelope('m4', 'tok2')), true);
    assert.deepEqual(await podB.claim(envelope('m5', 'tok2')), { status: 'new', messageId: 'm5' });

    // FAILED, REJECTED and TIMED_OUT are terminal too.
    for (const [i, state] of [EnvelopeState.REJECTED, EnvelopeState.FAILED, EnvelopeState.TIMED_OUT].entries()) {
      await podA.claim(envelope(`x${i}`, `term${i}`));
      await podA.settle(envelope(`x${i}`, `term${i}`, state));
      assert.equal((await podB.claim(envelope(`y${i}`, `term${i}`))).status, 'duplicate');
    }
    const stats = podB.stats();
    assert.deepEqual([stats.claims, stats.new, stats.duplicate, stats.inProgress], [6, 1, 4, 1]);
  });

  test('the same answers as ActivityBuffer.checkDuplicate for the same sequence', async () => {
    const dedup = new RedisDedup({ client, key: freshKey() });
    const buffer = new ActivityBuffer();
    const first = envelope('m1', 'same');
    assert.equal((await dedup.claim(first)).status, buffer.checkDuplicate(first).status);
    buffer.recordIncoming(first);
    const second = envelope('m2', 'same');
    assert.equal((await dedup.claim(second)).status, buffer.checkDuplicate(second).status);
    buffer.updateState('m1', EnvelopeState.FULFILLED);
    await dedup.settle({ ...first, state: EnvelopeState.FULFILLED });
    assert.equal((await dedup.claim(second)).status, buffer.checkDuplicate(second).status);
    const untokened = { message_id: 'm9', message_type: 2 };
    assert.equal((await dedup.claim(untokened)).status, buffer.checkDuplicate(untokened).status);
  });

  test('a claim expires with the dedup window', async () => {
    const key = freshKey();
    const dedup = new RedisDedup({ client, key, dedupWindowS: 1 });
    assert.equal((await dedup.claim(envelope('m1', 'short'))).status, 'new');
    await dedup.settle(envelope('m1', 'short', EnvelopeState.FULFILLED));
    assert.equal((await dedup.claim(envelope('m2', 'short'))).status, 'duplicate');
    await sleep(1200);
    assert.equal(await client.command(['EXISTS', `${key}:short`]), 0);
    assert.deepEqual(await dedup.claim(envelope('m2', 'short')), { status: 'new', messageId: 'm2' });
    assert.equal(await dedup.settle(envelope('m1', 'short', EnvelopeState.FULFILLED)), false, 'the old claim is gone');
  });

  test('a retried claim whose answer was lost still holds the claim (new, not in_progress)', async () => {
    let drops = 0;
    const lossy = await startFaultProxy({ target: servers.url, policy: ({ body }) => (body.includes('EVAL') && drops++ === 0 ? 'drop-response' : 'pass') });
    cleanups.push(() => lossy.stop());
    const key = freshKey();
    const dedup = new RedisDedup({ url: lossy.url, token: TOKEN, key });
    assert.deepEqual(await dedup.claim(envelope('m1', 'lost')), { status: 'new', messageId: 'm1' });
    assert.equal(lossy.counts.dropped, 1);
    assert.equal(dedup.stats().retries, 1);
    assert.equal((await new RedisDedup({ client, key }).claim(envelope('m2', 'lost'))).status, 'in_progress');
  });

  test('bad input is refused before anything is sent; an envelope without a token is new without a request', async () => {
    const key = freshKey();
    const dedup = new RedisDedup({ client, key });
    await dedup.claim(envelope('m1', 'tok'));
    const before = await client.command(['HGETALL', `${key}:tok`]);
    const requests = dedup.stats().requests;
    const bad = [null, 'x', [], {}, { message_id: '' }, { message_id: 5 }, { message_id: 'm', idempotency_token: 7 },
      { message_id: 'm', idempotency_token: 'tok', state: 9 }, { message_id: 'm', idempotency_token: 'tok', state: 1.5 }];
    for (const value of bad) {
      await assert.rejects(dedup.claim(value), TypeError, JSON.stringify(value));
      await assert.rejects(dedup.settle(value), TypeError);
      await assert.rejects(dedup.release(value), TypeError);
    }
    await assert.rejects(dedup.settle(envelope('m1', 'tok', EnvelopeState.READ)), (e) => e instanceof RangeError && /terminal/.test(e.message));
    assert.deepEqual(await dedup.claim({ message_id: 'm2' }), { status: 'new', messageId: 'm2' });
    assert.deepEqual(await dedup.claim({ message_id: 'm3', idempotency_token: null }), { status: 'new', messageId: 'm3' });
    assert.equal(dedup.stats().requests, requests, 'no request was sent');
    assert.equal(dedup.stats().untokened, 2);
    assert.deepEqual(await client.command(['HGETALL', `${key}:tok`]), before, 'nothing changed');

    assert.throws(() => new RedisDedup({ client, key: '' }), TypeError);
    assert.throws(() => new RedisDedup({ client, dedupWindowS: 0 }), RangeError);
    assert.throws(() => new RedisDedup({ client, dedupWindowS: 1.5 }), RangeError);
    assert.throws(() => new RedisDedup({ client, dedupWindowS: '60' }), TypeError);
    assert.throws(() => new RedisDedup({ client, window: 60 }), /unknown option "window"/);
    assert.throws(() => new RedisDedup({ client, url: servers.url }), /either client, or url/);
    assert.equal(new RedisDedup({ client }).key, 'tidepool:dedup');
    assert.equal(new RedisDedup({ client }).dedupWindowS, 3600);

    await client.command(['SET', `${key}:wrong`, 'text']);
    await assert.rejects(dedup.claim(envelope('m1', 'wrong')), (e) => e instanceof RedisRestError && /WRONGTYPE/.test(e.message));
    assert.equal(await client.command(['GET', `${key}:wrong`]), 'text');
  });

  test('Redis unreachable: claim rejects with a RedisRestError (never a false new)', async () => {
    const closed = await startFaultProxy({ target: servers.url });
    await closed.stop();
    const dedup = new RedisDedup({ url: closed.url, token: TOKEN, timeoutMs: 300 });
    await assert.rejects(dedup.claim(envelope('m1', 'tok')), (e) => e instanceof RedisRestError && e.code === 'REDIS_NETWORK');
    await assert.rejects(dedup.settle(envelope('m1', 'tok', EnvelopeState.FULFILLED)), RedisRestError);
    assert.equal(dedup.stats().errors, 2);
  });
});
