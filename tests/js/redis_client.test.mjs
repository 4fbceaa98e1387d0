// RedisRestClient against a real redis-server behind the Upstash-compatible gateway, with a
// fault-injecting proxy in between where a test needs a failure.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RedisRestClient, RedisRestError, TidepoolError } from '../../pkg/entry/node.js';
import { redisUnavailableReason, startFaultProxy, startRedisWithGateway } from '../helpers/redis.mjs';

const TOKEN = 'sEcReT-tOkEn-4f1c9a';
const unavailable = redisUnavailableReason();
let servers;
const proxies = [];

before(async () => {
  if (!unavailable) servers = await startRedisWithGateway({ token: TOKEN });
});
after(async () => {
  for (const proxy of proxies) await proxy.stop();
  await servers?.stop();
});

async function proxy(policy) {
  const started = await startFaultProxy({ target: servers.url, policy });
  proxies.push(started);
  return started;
}

/** The rejection of `promise`, asserting it is a RedisRestError that never shows the token. */
async function failure(promise) {
  const error = await promise.then(() => assert.fail('expected a rejection'), (e) => e);
  assert.ok(error instanceof RedisRestError, `${error}`);
  assert.ok(error instanceof TidepoolError);
  for (const text of [error.message, error.stack, JSON.stringify(error), String(error)]) {
    assert.ok(!text.includes(TOKEN), `the token appears in ${text}`);
  }
  return error;
}

describe('RedisRestClient', { skip: unavailable ?? false }, () => {
  test('commands and pipelines, with per-entry errors', async () => {
    const client = new RedisRestClient({ url: servers.url, token: TOKEN });
    assert.equal(await client.command(['SET', 'c:k', 'v']), 'OK');
    assert.equal(await client.command(['GET', 'c:k']), 'v');
    assert.equal(await client.command(['GET', 'c:missing']), null);
    assert.equal(await client.command(['INCRBY', 'c:n', 5]), 5);
    const entries = await client.pipeline([['GET', 'c:k'], ['ZADD', 'c:k', '1', 'm'], ['INCR', 'c:n']]);
    assert.deepEqual(entries[0], { result: 'v' });
    assert.ok(entries[1].error instanceof RedisRestError);
    assert.equal(entries[1].error.code, 'REDIS_ERROR');
    assert.equal(entries[1].error.index, 1);
    assert.match(entries[1].error.message, /WRONGTYPE/);
    assert.deepEqual(entries[2], { result: 6 }, 'the commands after a failing one still ran');
    const error = await failure(client.command(['ZADD', 'c:k', '1', 'm']));
    assert.equal(error.code, 'REDIS_ERROR');
    assert.equal(error.command, 'ZADD');
    assert.equal(error.mayHaveApplied, false);
    assert.equal(await client.command(['GET', 'c:k']), 'v', 'the failed command changed nothing');
  });

  test('scripts run by EVALSHA and fall back to EVAL on NOSCRIPT (local gateway: 500)', async () => {
    const client = new RedisRestClient({ url: servers.url, token: TOKEN });
    await client.command(['SCRIPT', 'FLUSH']);
    const script = 'return {KEYS[1], ARGV[1], tonumber(ARGV[2]) * 2}';
    const sent = [];
    const spy = await proxy(({ body }) => {
      sent.push(JSON.parse(body)[0]);
      return 'pass';
    });
    const viaProxy = new RedisRestClient({ url: spy.url, token: TOKEN });
    assert.deepEqual(await viaProxy.evalScript(script, ['k1'], ['a', '21']), ['k1', 'a', 42]);
    assert.deepEqual(sent, ['EVALSHA', 'EVAL']);
    assert.deepEqual(await viaProxy.evalScript(script, ['k2'], ['b', '1']), ['k2', 'b', 2]);
    assert.deepEqual(sent, ['EVALSHA', 'EVAL', 'EVALSHA'], 'the script is cached after the EVAL');
    assert.equal(viaProxy.stats().scriptFallbacks, 1);
  });

  test('EVALSHA names a script by the SHA-1 Redis gives it (Web Crypto), or asks Redis without crypto.subtle', async () => {
    const script = 'return "sha-' + Math.random() + '"';
    const expected = await new RedisRestClient({ url: servers.url, token: TOKEN }).command(['SCRIPT', 'LOAD', script]);
    const sent = [];
    const spy = await proxy(({ body }) => {
      sent.push(JSON.parse(body).slice(0, 2));
      return 'pass';
    });
    const client = new RedisRestClient({ url: spy.url, token: TOKEN });
    assert.match(await client.evalScript(script), /^sha-/);
    assert.deepEqual(sent, [['EVALSHA', expected]], 'digest computed locally: one request');
    // A browser page served over plain http has no crypto.subtle: Redis computes the digest.
    const webCrypto = Object.getOwnPropertyDescriptor(globalThis, 'crypto');
    const real = globalThis.crypto;
    Object.defineProperty(globalThis, 'crypto', { value: { getRandomValues: real.getRandomValues.bind(real) }, configurable: true });
    try {
      sent.length = 0;
      const insecure = new RedisRestClient({ url: spy.url, token: TOKEN });
      assert.match(await insecure.evalScript(script), /^sha-/);
      assert.match(await insecure.evalScript(script), /^sha-/);
      assert.deepEqual(sent, [['SCRIPT', 'LOAD'], ['EVALSHA', expected], ['EVALSHA', expected]], 'SCRIPT LOAD once per client');
    } finally {
      Object.defineProperty(globalThis, 'crypto', webCrypto);
    }
    assert.ok(globalThis.crypto.subtle, 'Web Crypto restored');
  });

  test('NOSCRIPT in a hosted-Upstash-style 400 also falls back to EVAL', async () => {
    const sent = [];
    const hosted = await proxy(({ body }) => {
      const name = JSON.parse(body)[0];
      sent.push(name);
      if (name === 'EVALSHA') return { status: 400, body: JSON.stringify({ error: 'NOSCRIPT No matching script. Please use EVAL.' }) };
      return 'pass';
    });
    const client = new RedisRestClient({ url: hosted.url, token: TOKEN });
    assert.equal(await client.evalScript('return ARGV[1]', [], ['x']), 'x');
    assert.deepEqual(sent, ['EVALSHA', 'EVAL']);
  });

  test('a wrong token is a 401 RedisRestError on every path, the token never in the message', async () => {
    const wrong = new RedisRestClient({ url: servers.url, token: `${TOKEN}-wrong` });
    for (const call of [() => wrong.command(['GET', 'x']), () => wrong.pipeline([['GET', 'x']]), () => wrong.evalScript('return 1')]) {
      const error = await failure(call());
      assert.equal(error.code, 'REDIS_UNAUTHORIZED');
      assert.equal(error.status, 401);
      assert.equal(error.mayHaveApplied, false);
      assert.ok(!error.message.includes(`${TOKEN}-wrong`));
    }
    // A server that echoes the Authorization header back in its error body: redacted.
    const echo = await proxy(({ headers }) => ({ status: 403, body: `forbidden: ${headers.authorization}` }));
    const error = await failure(new RedisRestClient({ url: echo.url, token: TOKEN }).command(['GET', 'x']));
    assert.equal(error.code, 'REDIS_UNAUTHORIZED');
    assert.match(error.message, /Bearer \[token\]/);
  });

  test('a server that accepts and never answers times out per request; later requests are unaffected', async () => {
    let hang = true;
    const silent = await proxy(() => (hang ? 'hang' : 'pass'));
    const client = new RedisRestClient({ url: silent.url, token: TOKEN, timeoutMs: 300 });
    const started = Date.now();
    const error = await failure(client.command(['SET', 'c:t', '1']));
    assert.equal(error.code, 'REDIS_TIMEOUT');
    assert.equal(error.status, 0);
    assert.equal(error.mayHaveApplied, true);
    assert.ok(Date.now() - started >= 290);
    hang = false;
    assert.equal(await client.command(['GET', 'c:t']), null, 'the next request has its own, fresh timeout');
  });

  test("an already-aborted caller signal fails only its own call", async () => {
    const client = new RedisRestClient({ url: servers.url, token: TOKEN });
    const shared = new AbortController();
    shared.abort();
    const error = await failure(client.command(['SET', 'c:a', '1'], { signal: shared.signal }));
    assert.equal(error.code, 'REDIS_ABORTED');
    assert.equal(error.mayHaveApplied, false);
    assert.equal(await client.command(['GET', 'c:a']), null, 'the aborted call sent nothing');
    assert.equal(await client.command(['SET', 'c:a', '2']), 'OK', 'later calls are not poisoned');
  });

  test('malformed bodies are REDIS_BAD_RESPONSE; other HTTP failures REDIS_HTTP', async () => {
    const answers = [
      { status: 200, body: 'not json at all' },
      { status: 200, body: '{"foo":1}' },
      { status: 200, body: '[1,2]' },
      { status: 502, body: '<html>bad gateway</html>' },
      { status: 404, body: 'Not Found' },
      { status: 500, body: '{"error":"Failed to execute Redis command: Connection is closed."}' },
    ];
    let next = 0;
    const broken = await proxy(() => answers[next++]);
    const client = new RedisRestClient({ url: broken.url, token: TOKEN });
    const expected = [
      ['REDIS_BAD_RESPONSE', 200, true], ['REDIS_BAD_RESPONSE', 200, true], ['REDIS_BAD_RESPONSE', 200, true],
      ['REDIS_HTTP', 502, true], ['REDIS_HTTP', 404, false], ['REDIS_HTTP', 500, true],
    ];
    for (const [code, status, mayHaveApplied] of expected) {
      const error = await failure(client.command(['GET', 'x']));
      assert.deepEqual([error.code, error.status, error.mayHaveApplied], [code, status, mayHaveApplied], error.message);
    }
    next = 2;
    const pipelineError = await failure(client.pipeline([['GET', 'a'], ['GET', 'b'], ['GET', 'c']]));
    assert.equal(pipelineError.code, 'REDIS_BAD_RESPONSE', 'a pipeline answer of the wrong length');
  });

  test('the upstash-sync-token of response N is sent with request N+1', async () => {
    const seen = [];
    let n = 0;
    const syncing = await proxy(({ headers }) => {
      seen.push(headers['upstash-sync-token'] ?? null);
      n += 1;
      return { forward: true, headers: { 'upstash-sync-token': `sync-${n}` } };
    });
    const client = new RedisRestClient({ url: syncing.url, token: TOKEN });
    await client.command(['SET', 'c:s', '1']);
    await client.command(['GET', 'c:s']);
    await client.pipeline([['GET', 'c:s']]);
    await client.evalScript('return 1'); // EVALSHA, and EVAL when the script is not cached
    assert.ok(seen.length >= 4);
    assert.deepEqual(seen, seen.map((_, i) => (i === 0 ? null : `sync-${i}`)));
  });

  test('no retry unless asked; with retry: true a lost response is retried', async () => {
    let drop = 1;
    const lossy = await proxy(() => (drop-- > 0 ? 'drop-response' : 'pass'));
    const client = new RedisRestClient({ url: lossy.url, token: TOKEN });
    const error = await failure(client.command(['INCR', 'c:once']));
    assert.equal(error.code, 'REDIS_NETWORK');
    assert.equal(error.mayHaveApplied, true);
    assert.equal(error.attempts, 1);
    assert.equal(await client.command(['GET', 'c:once']), '1', 'applied once, not retried');
    drop = 1;
    const attempts = [];
    assert.equal(await client.command(['GET', 'c:once'], { retry: true, onAttempt: (n) => attempts.push(n) }), '1');
    assert.deepEqual(attempts, [1, 2]);
    assert.equal(client.stats().retries, 1);
  });

  test('a refused connection is REDIS_NETWORK that was not applied', async () => {
    const closed = await startFaultProxy({ target: servers.url });
    const { url } = closed;
    await closed.stop();
    const error = await failure(new RedisRestClient({ url, token: TOKEN }).command(['SET', 'x', '1']));
    assert.equal(error.code, 'REDIS_NETWORK');
    assert.equal(error.mayHaveApplied, false);
  });

  test('fromEnv reads a Workers-style env object or process.env', async () => {
    const client = RedisRestClient.fromEnv({ UPSTASH_REDIS_REST_URL: `${servers.url}/`, UPSTASH_REDIS_REST_TOKEN: TOKEN });
    assert.equal(client.url, servers.url);
    assert.equal(await client.command(['PING']), 'PONG');
    assert.throws(() => RedisRestClient.fromEnv({ UPSTASH_REDIS_REST_URL: servers.url }), /UPSTASH_REDIS_REST_TOKEN is not set/);
    const saved = { ...process.env };
    try {
      process.env.UPSTASH_REDIS_REST_URL = servers.url;
      process.env.UPSTASH_REDIS_REST_TOKEN = TOKEN;
      assert.equal(await RedisRestClient.fromEnv(undefined, { timeoutMs: 1000 }).command(['PING']), 'PONG');
      delete process.env.UPSTASH_REDIS_REST_URL;
      assert.throws(() => RedisRestClient.fromEnv(), /UPSTASH_REDIS_REST_URL is not set/);
    } finally {
      process.env.UPSTASH_REDIS_REST_URL = saved.UPSTASH_REDIS_REST_URL;
      if (saved.UPSTASH_REDIS_REST_URL === undefined) delete process.env.UPSTASH_REDIS_REST_URL;
      if (saved.UPSTASH_REDIS_REST_TOKEN === undefined) delete process.env.UPSTASH_REDIS_REST_TOKEN;
    }
  });

  test('bad options and arguments are TypeError / RangeError, never quoting the token', async () => {
    assert.throws(() => new RedisRestClient({ url: servers.url, token: TOKEN, timeout: 5 }), /unknown option "timeout"/);
    assert.throws(() => new RedisRestClient({ url: 'redis://x', token: TOKEN }), TypeError);
    assert.throws(() => new RedisRestClient({ url: 'not a url', token: TOKEN }), TypeError);
    assert.throws(() => new RedisRestClient({ url: servers.url, token: '' }), TypeError);
    assert.throws(() => new RedisRestClient({ url: servers.url, token: `${TOKEN}\nX-Evil: 1` }), (e) => e instanceof TypeError && !e.message.includes(TOKEN));
    assert.throws(() => new RedisRestClient({ url: servers.url, token: TOKEN, timeoutMs: 0 }), RangeError);
    const client = new RedisRestClient({ url: servers.url, token: TOKEN });
    await assert.rejects(client.command([]), TypeError);
    await assert.rejects(client.command(['SET', 'k', { v: 1 }]), /command\[2\] must be a string or a finite number/);
    await assert.rejects(client.pipeline([]), TypeError);
    await assert.rejects(client.command(['GET', 'k'], { retries: 3 }), /unknown option "retries"/);
    const { command } = client;
    assert.equal(await command(['PING']), 'PONG', 'methods are bound');
  });
});
