// Type-checks a use of every export of the package (`tsc --noEmit`); it is not run.
import {
  ready, init, EventBuffer, parsePayload, toText, mergeActions, TidepoolError, PayloadError,
  type ActionsPayload, type SummaryPayload, type AnyPayload, type WirePayload, type SlimAction, type EventBufferOptions,
  InMemoryEventLog, DisabledEventLog, createEventLog, activityHandler,
  type LogEvent, type EventLogBackend, type EventLogReadResult, type EventLogStats, type EventLogOptions,
  type EventLogQuery, type CreateEventLogOptions, type ActivityHandlerOptions, type ActivityPage,
  ActivityBuffer, buildEnvelope, computeIdempotencyToken, SequenceTracker, AckStage, EnvelopeState, ErrorCode,
  MessageType, isTerminalState, isTerminalStage, BufferFullError, SnapshotError,
  type ActivityRecord, type ActivityBufferOptions, type ActivitySnapshot, type ActivityStats, type Ack,
  type DuplicateCheck, type Envelope, type BuiltEnvelope, type BuildEnvelopeOptions, type VictimChooser,
  type EvictionStrategy, type AckStageValue, type EnvelopeStateValue,
  PersistentActivityBuffer, MemoryPersistence, PersistenceError, LockedError, StoreLoadError, ActivityBufferLoadError,
  type PersistenceBackend, type ChangeSet, type StoredState, type PersistentActivityBufferOptions, type DurableOptions,
} from 'tidepool';

async function eventLog(): Promise<void> {
  const options: EventLogOptions = { ttlSeconds: 60, maxEntries: 100, maxBytes: 1 << 20, now: () => Date.now() / 1000 };
  const log = new InMemoryEventLog(options);
  const event: LogEvent = log.append('turn.started', { turn: 1 });
  const plain: LogEvent = log.append('tool.invoked');
  const query: EventLogQuery = { since: event.id, limit: null };
  const events: LogEvent[] = log.query(query);
  const page: EventLogReadResult = log.read({ since: 0 });
  const firstId: number | null = page.firstId;
  const stats: EventLogStats = log.stats();
  const bounds: number[] = [log.ttlSeconds, log.maxEntries, log.maxBytes, stats.evictedByBytes, stats.bytes, log.lastId, log.subscriberCount, log.clear()];
  const unsubscribe: () => void = log.subscribe((e: LogEvent) => void e.kind);
  unsubscribe();
  const factoryOptions: CreateEventLogOptions = { backend: 'off', maxEntries: 10 };
  const backends: EventLogBackend[] = [log, new DisabledEventLog(), createEventLog(factoryOptions), createEventLog()];
  for (const backend of backends) {
    const appended: LogEvent = await backend.append('x', { a: [1, 'b'] });
    const queried: LogEvent[] = await backend.query({ since: appended.id });
    await backend.clear();
    void queried;
  }
  const handlerOptions: ActivityHandlerOptions = { cors: 'https://canvas.example', heartbeatMs: 15_000 };
  const handle: (request: Request) => Promise<Response> = activityHandler(log, handlerOptions);
  const body = (await (await handle(new Request('http://x/activity'))).json()) as ActivityPage;
  const nextSince: number = body.next_since;
  void plain, events, firstId, stats, bounds, nextSince;
}
void eventLog;

async function main(): Promise<void> {
  await ready;
  await init();

  const options: EventBufferOptions<AnyPayload> = { maxSize: 10, onDrop: (p: AnyPayload) => void p.session_id };
  const buffer = new EventBuffer(options);
  const onActions = (callback: (payload: AnyPayload) => void): void => callback(parsePayload({ type: 'actions' }));
  onActions(buffer.add);
  const all: AnyPayload[] = buffer.drain();
  const summaries: AnyPayload[] = buffer.drainByType({ actions: false, summaries: true });
  const newest: AnyPayload[] = buffer.peek(5);
  const counts: number[] = [buffer.size, buffer.maxSize, buffer.droppedCount, buffer.clear()];
  const empty: boolean = buffer.isEmpty;

  // The default item type takes payloads as they arrive on the wire (fields absent, extra fields).
  const wire = new EventBuffer();
  wire.add({ type: 'actions', session_id: 'ps_1', actions: [{ index: 0, type: 'click', description: 'x' }], extra: 1 });
  wire.add({ type: 'summary', summary: 's' });
  wire.add({ type: 'other', anything: true });
  const { drain: drainWire } = wire;
  const wired: WirePayload[] = drainWire();
  void wired;
  const typedLog = new InMemoryEventLog<{ turn: number }>();
  const turn: number = typedLog.append('turn.started', { turn: 1 }).payload.turn;
  const turns: number[] = typedLog.query().map((e) => e.payload.turn);
  const readTurns: number[] = typedLog.read({ since: 0 }).events.map((e) => e.payload.turn);
  void turn, turns, readTurns;

  const custom = new EventBuffer<{ kind: string }>({ maxSize: 0 });
  custom.add({ kind: 'x' });

  const parsed = parsePayload({ type: 'summary', summary: 's' });
  if (parsed.type === 'summary') {
    const s: SummaryPayload = parsed;
    const text: string = toText(s);
    void text;
  } else {
    const a: ActionsPayload = parsed;
    const first: SlimAction | undefined = a.actions[0];
    void first;
  }
  const merged: ActionsPayload = mergeActions([{ type: 'actions' }]);
  try {
    parsePayload(42);
  } catch (error) {
    if (error instanceof PayloadError) {
      const field: string = error.field;
      const code: 'INVALID_PAYLOAD' = error.code;
      void field, code;
    }
    if (error instanceof TidepoolError) void error.code;
  }
  void all, summaries, newest, counts, empty, merged;
}
async function activity(): Promise<void> {
  const envelopeOptions: BuildEnvelopeOptions = {
    producerId: 'agent-a', messageType: MessageType.TOOL_CALL, payload: new Uint8Array([1]), state: EnvelopeState.SENT,
  };
  const built: BuiltEnvelope = buildEnvelope(envelopeOptions);
  const payload: Uint8Array = built.payload;
  const token: string = computeIdempotencyToken('agent-a', 'tool_call', 'bytes or text');
  const sequence: number = new SequenceTracker(1).next();
  const chooser: VictimChooser = { victims: (order: string[], excess: number) => order.slice(0, excess) };
  const strategies: EvictionStrategy[] = ['fifo', 'lifo', 'settled-first', { random: { seed: 1 } }, chooser];
  const options: ActivityBufferOptions = { maxItems: 10, dedupWindowS: 60, strategy: strategies[0], onFull: 'reject', now: () => 0 };
  const buffer = new ActivityBuffer(options);
  const envelope: Envelope = { ...built, idempotency_token: token };
  const outgoing: ActivityRecord = buffer.recordOutgoing(envelope);
  const incoming: ActivityRecord = buffer.recordIncoming({ message_id: 'm-in' });
  const ack: Ack = { ack_for_message_id: outgoing.message_id, ack_stage: AckStage.FULFILLED, error_code: ErrorCode.UNSPECIFIED, note: '' };
  const acked: ActivityRecord | undefined = buffer.ack(ack);
  const found: ActivityRecord | undefined = buffer.get('m-in') ?? buffer.getByIdempotencyToken(token) ?? buffer.updateState('m-in', 4);
  const lists: ActivityRecord[][] = [buffer.unacked(), buffer.reconcile(), buffer.recent(5), buffer.recent()];
  const check: DuplicateCheck = buffer.checkDuplicate(envelope);
  const status: 'new' | 'duplicate' | 'in_progress' = check.status;
  const stats: ActivityStats = buffer.stats();
  const snapshot: ActivitySnapshot = buffer.toSnapshot();
  const loaded: ActivityBuffer = ActivityBuffer.fromSnapshot(snapshot, { maxItems: 5 });
  const terminal: boolean = isTerminalState(check.record?.state) || isTerminalStage(incoming.ack_stage);
  const stage: AckStageValue = AckStage.READ;
  const state: EnvelopeStateValue = EnvelopeState.PENDING;
  const size: number = buffer.size + loaded.size;
  buffer.clear();
  try {
    buffer.recordOutgoing({ message_id: 'x' });
  } catch (error) {
    if (error instanceof BufferFullError) {
      const sizes: number[] = [error.currentSize, error.maxSize, error.errorCode];
      const code: 'BUFFER_FULL' = error.code;
      void sizes, code;
    }
    if (error instanceof SnapshotError) {
      const where: string[] = [error.path, error.problem];
      const code: 'SNAPSHOT_INVALID' = error.code;
      void where, code;
    }
  }
  void payload, sequence, incoming, acked, found, lists, status, stats, terminal, stage, state, size;
}
void main;
void activity;

import {
  RedisRestClient, RedisRestError, RedisEventBuffer, isBufferBackend,
  type BufferBackend, type RedisEventBufferOptions, type RedisEventBufferStats, type RedisDropReason,
  type RedisRestClientOptions, type RedisCallOptions, type PipelineEntry, type RedisRestErrorCode,
  RedisEventLog, type RedisEventLogOptions, type RedisEventLogStats,
  RedisDedup, type RedisDedupOptions, type DedupClaim, type DedupEnvelope,
} from 'tidepool';

async function redis(): Promise<void> {
  const clientOptions: RedisRestClientOptions = { url: 'http://127.0.0.1:8080', token: 't', timeoutMs: 1000, fetch: (u, i) => fetch(u, i) };
  const client = new RedisRestClient(clientOptions);
  const fromEnv: RedisRestClient = RedisRestClient.fromEnv({ UPSTASH_REDIS_REST_URL: 'http://x', UPSTASH_REDIS_REST_TOKEN: 't' });
  const call: RedisCallOptions = { retry: true, timeoutMs: 500, signal: new AbortController().signal, onAttempt: (n: number) => void n };
  const value: unknown = await client.command(['SET', 'k', 1], call);
  const entries: PipelineEntry[] = await client.pipeline([['GET', 'k']]);
  const scripted: unknown = await client.evalScript('return 1', [], ['a', 2]);
  const counts: number = client.stats().requests;
  const options: RedisEventBufferOptions = {
    client, keyPrefix: 'svc', windowSeconds: 60, maxConcurrent: 5,
    onDrop: (payload, reason: RedisDropReason) => void [payload, reason], onUnreadable: (m: string, p: string) => void [m, p],
  };
  const buffer = new RedisEventBuffer(options);
  const backend: BufferBackend = buffer;
  await backend.add(parsePayload({ type: 'summary' }));
  const drained: AnyPayload[] = await buffer.drain();
  const size: number = await buffer.size();
  const unsettled: number = await buffer.flush();
  const stats: RedisEventBufferStats = buffer.stats();
  const ok: boolean = isBufferBackend(buffer);
  try {
    await client.command(['GET', 'k']);
  } catch (error) {
    if (error instanceof RedisRestError) {
      const code: RedisRestErrorCode = error.code;
      const fields: [number, string, boolean] = [error.status, error.command, error.mayHaveApplied];
      void code, fields;
    }
  }
  void fromEnv, value, entries, scripted, counts, drained, size, unsettled, stats, ok, buffer.keyPrefix, buffer.windowSeconds;
  const logOptions: RedisEventLogOptions = { client, key: 'activity', ttlSeconds: 60, maxEntries: 100, maxBytes: 1 << 20, timeoutMs: 1000 };
  const redisLog = new RedisEventLog(logOptions);
  const asBackend: EventLogBackend = redisLog;
  const appended: { id: number; timestamp: number } = await redisLog.append('turn.started', { turn: 1 });
  const page: { missed: number; nextSince: number } = await redisLog.read({ since: 0, limit: 10 });
  const queried: number = (await redisLog.query({ since: 1 })).length;
  const dropped: number = await redisLog.clear();
  const logStats: RedisEventLogStats = await redisLog.stats();
  const bounds: [string, number, number, number | null] = [redisLog.key, redisLog.ttlSeconds, redisLog.maxEntries, redisLog.maxBytes];
  void asBackend, appended, page, queried, dropped, logStats.replayedAppends, bounds;
  const dedupOptions: RedisDedupOptions = { client, key: 'svc:dedup', dedupWindowS: 600, timeoutMs: 1000 };
  const dedup = new RedisDedup(dedupOptions);
  const incoming: DedupEnvelope = { message_id: 'm1', idempotency_token: 't1', state: 2 };
  const claimed: DedupClaim = await dedup.claim(incoming);
  if (claimed.status === 'new') await dedup.settle({ ...incoming, state: 4 });
  const released: boolean = await dedup.release(incoming);
  void released, dedup.key, dedup.dedupWindowS, dedup.stats().inProgress, claimed.messageId;
}
void redis;

import { IndexedDBPersistence, type IndexedDBPersistenceOptions } from 'tidepool/persistence/indexeddb';

async function persistence(): Promise<void> {
  const idbOptions: IndexedDBPersistenceOptions = { name: 'agent', durability: 'relaxed' };
  const idb: PersistenceBackend = new IndexedDBPersistence(idbOptions);
  void idb.lockName;
  const memory = new MemoryPersistence({ lockName: 'tidepool:test' });
  const custom: PersistenceBackend = {
    async load(): Promise<StoredState> { return { records: [['k', { v: 1 }]], meta: null }; },
    async save(changes: ChangeSet): Promise<void> { void [changes.clear, changes.remove, changes.put, changes.meta]; },
    async close(): Promise<void> {},
  };
  const durable: DurableOptions = { persistence: custom, autoFlushMs: 1000, ifLocked: 'fail', onFlushError: (e: PersistenceError) => void e.code };
  const options: PersistentActivityBufferOptions = { ...durable, persistence: memory, maxItems: 10, loadFailureMode: 'empty' };
  const buffer: PersistentActivityBuffer = await PersistentActivityBuffer.open(options);
  const base: ActivityBuffer = buffer;
  buffer.recordOutgoing({ message_id: 'm1' });
  await buffer.flush();
  const snapshot: ActivitySnapshot = buffer.exportSnapshot();
  buffer.importSnapshot(snapshot);
  await buffer.clear();
  const flags: boolean[] = [buffer.closed, buffer.degraded];
  await buffer.close();
  try {
    await PersistentActivityBuffer.open({ persistence: memory });
  } catch (error) {
    if (error instanceof LockedError) void error.lockName;
    if (error instanceof StoreLoadError) void error.cause;
    if (error instanceof ActivityBufferLoadError) void [error.path, error.problem, error.cause.code];
    if (error instanceof PersistenceError) void [error.code, error.operation];
  }
  void base, flags, memory.size, memory.saves;
}
void persistence;

import {
  ConnectorClient, ConnectorError, type ConnectorClientOptions, type ConnectorClientStats, type ConnectorErrorCode,
} from 'tidepool';

async function connector(): Promise<void> {
  const buffer = new EventBuffer();
  const options: ConnectorClientOptions = {
    url: new URL('http://127.0.0.1:8080/stream/p'), token: async () => 't', headers: () => ({ 'x-app': '1' }),
    lastEventId: '', initialBackoffMs: 500, maxBackoffMs: 10_000, maxRetries: null, connectTimeoutMs: 5000,
    maxQueueSize: 100, maxEventBytes: 1 << 16, onConnect: () => {}, onDisconnect: (e: ConnectorError | null) => void e?.code,
    fetch: (u, i) => fetch(u, i), timers: { setTimeout, clearTimeout }, random: Math.random,
  };
  const client = new ConnectorClient(options)
    .onActions(buffer.add)
    .onSummary(async (s) => void s.summary)
    .onEvent((p) => void p.type)
    .onDrop((raw, total: number) => void [raw, total]);
  setTimeout(client.stop, 1000);
  try {
    await client.run();
  } catch (error) {
    if (error instanceof ConnectorError) {
      const code: ConnectorErrorCode = error.code;
      const status: number = error.status;
      void code, status, error.attempts, error.contentType;
    }
  }
  const stats: ConnectorClientStats = client.stats();
  const resume: string = client.lastEventId;
  void stats.skipped.tooLarge, resume, client.running;
}
void connector;
