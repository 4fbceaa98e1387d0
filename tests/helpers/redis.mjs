// Real Redis for tests and benchmarks: a redis-server (Debian package) and the
// Upstash-compatible REST gateway in front of it (tests/helpers/upstash_gateway.mjs), both on
// 127.0.0.1, plus a fault-injecting HTTP proxy to put between a client and the gateway.
// Each start* resolves to `{ url, pid, stop() }`; `stop()` kills the process by PID (its
// process group) and resolves once it has exited. Call it in `after` / `finally`.
import { spawn, spawnSync } from 'node:child_process';
import { createServer, request as httpRequest } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const GATEWAY_SCRIPT = join(repoRoot, 'tests', 'helpers', 'upstash_gateway.mjs');
/** How long a server may take to come up on a loaded machine. */
const READY_TIMEOUT_MS = 30_000;

/** Why Redis cannot run here, or null when `redis-server` is available. */
export function redisUnavailableReason() {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return probe.error ? 'redis-server is not installed (npm test installs the Debian package redis-server as root)' : null;
}

/** The Python interpreter of the interop venv (.venv, made by scripts/setup.sh), or null. */
export function interopPython() {
  const python = join(repoRoot, '.venv', 'bin', 'python');
  return existsSync(python) ? python : null;
}

/** A TCP port that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Spawns `command` in its own process group and resolves once `ready(output)` matches its
 * combined output; rejects (after killing it) when it exits first or takes too long.
 */
function spawnReady(command, args, { env, ready, what }) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let settled = false;
    const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {}
      }
      await exited;
    };
    const fail = (message) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stop().then(() => reject(new Error(`${what}: ${message}\n${output.slice(-2000)}`)));
    };
    const timer = setTimeout(() => fail(`not ready after ${READY_TIMEOUT_MS} ms`), READY_TIMEOUT_MS);
    const onData = (chunk) => {
      output += chunk;
      if (settled) return;
      const match = ready(output);
      if (match) {
        settled = true;
        clearTimeout(timer);
        resolve({ child, match, stop, output: () => output });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (error) => fail(error.message));
    child.once('exit', (code, signal) => fail(`exited (${code ?? signal}) before it was ready`));
  });
}

/**
 * Starts `redis-server` on 127.0.0.1 (a free port unless `port` is given), without persistence.
 * Resolves to `{ url: 'redis://127.0.0.1:<port>', port, pid, stop() }`.
 */
export async function startRedis({ port } = {}) {
  for (let attempt = 1; ; attempt++) {
    const chosen = port ?? (await freePort());
    try {
      const { child, stop } = await spawnReady('redis-server', [
        '--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
        '--protected-mode', 'yes', '--loglevel', 'notice',
      ], { ready: (out) => /Ready to accept connections/.test(out), what: `redis-server on ${chosen}` });
      return { url: `redis://127.0.0.1:${chosen}`, port: chosen, pid: child.pid, stop };
    } catch (error) {
      // Another process took the port between freePort() and the bind: try another one.
      if (port !== undefined || attempt >= 5 || !/Address already in use/.test(error.message)) throw error;
    }
  }
}

/**
 * Starts the REST gateway (tests/helpers/upstash_gateway.mjs) for `redisUrl` with `token` on
 * 127.0.0.1 (any free port unless `port` is given: pass the old port to restart it in place).
 * Resolves to `{ url, port, pid, token, stop(), counts(), resetCounts() }`; `counts()` resolves
 * to the number of requests per path since the last reset.
 */
export async function startGateway({ redisUrl, token, port = 0 }) {
  const { child, match, stop } = await spawnReady(process.execPath, [GATEWAY_SCRIPT], {
    env: { URS_TOKEN: token, REDIS_URL: redisUrl, PORT: String(port) },
    ready: (out) => out.match(/listening (\d+)/),
    what: 'upstash gateway',
  });
  const url = `http://127.0.0.1:${match[1]}`;
  const admin = async (path, method) => {
    const response = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
    if (!response.ok) throw new Error(`gateway ${path}: HTTP ${response.status}`);
    return response.json();
  };
  return {
    url,
    port: Number(match[1]),
    pid: child.pid,
    token,
    stop,
    counts: () => admin('/__counts', 'GET'),
    resetCounts: () => admin('/__counts/reset', 'POST'),
  };
}

/**
 * Starts Redis and a gateway in front of it. Resolves to `{ redis, gateway, url, token, stop() }`;
 * `stop()` stops both (the gateway first).
 */
export async function startRedisWithGateway({ token = 'test-token-0123456789' } = {}) {
  const redis = await startRedis();
  try {
    const gateway = await startGateway({ redisUrl: redis.url, token });
    return {
      redis,
      gateway,
      url: gateway.url,
      token,
      async stop() {
        await gateway.stop();
        await redis.stop();
      },
    };
  } catch (error) {
    await redis.stop();
    throw error;
  }
}

/**
 * A fault-injecting HTTP proxy in this process, in front of `target` (a URL). For each request
 * it calls `policy({ index, method, path, headers, body })`, which returns one of:
 *   - 'pass' (default): forward, relay the response;
 *   - 'drop-response': forward, wait for the upstream response, then destroy the client's
 *     connection without answering (the server did the work; the client never hears of it);
 *   - 'hang': accept the request and never answer (the connection stays open);
 *   - { status, body, headers }: answer this without forwarding;
 *   - { forward: true, body?: (upstreamBody) => string, headers?: {...} }: forward, then answer
 *     with a rewritten body and/or extra response headers.
 * `counts` holds requests per path and per outcome. Resolves to `{ url, pid, counts, setPolicy,
 * stop() }` (`pid` is this process: the proxy runs in it).
 */
export async function startFaultProxy({ target, policy = () => 'pass' } = {}) {
  const upstream = target ? new URL(target) : null;
  const counts = { requests: 0, byPath: {}, dropped: 0, hung: 0, rewritten: 0 };
  const hanging = new Set();
  let current = policy;
  let index = 0;
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const path = new URL(req.url, 'http://proxy').pathname;
    counts.requests += 1;
    counts.byPath[path] = (counts.byPath[path] ?? 0) + 1;
    const decision = current({ index: index++, method: req.method, path, headers: req.headers, body: body.toString('utf8') }) ?? 'pass';
    if (decision === 'hang') {
      counts.hung += 1;
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    }
    if (typeof decision === 'object' && !decision.forward) {
      counts.rewritten += 1;
      res.writeHead(decision.status ?? 200, decision.headers ?? { 'content-type': 'application/json' });
      res.end(decision.body ?? '');
      return;
    }
    let answer;
    try {
      answer = await forward(upstream, req, body);
    } catch {
      res.destroy();
      return;
    }
    if (decision === 'drop-response') {
      counts.dropped += 1;
      res.destroy();
      return;
    }
    let responseBody = answer.body;
    if (typeof decision === 'object' && typeof decision.body === 'function') {
      counts.rewritten += 1;
      responseBody = Buffer.from(decision.body(answer.body.toString('utf8')));
    }
    const headers = { ...answer.headers, ...(decision.headers ?? {}), 'content-length': String(responseBody.length) };
    delete headers['transfer-encoding'];
    res.writeHead(answer.status, headers);
    res.end(responseBody);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    pid: process.pid,
    counts,
    setPolicy(next) {
      current = next;
    },
    async stop() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function forward(upstream, req, body) {
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers, host: upstream.host, 'content-length': String(body.length) };
    const outgoing = httpRequest({
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers,
    }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}
