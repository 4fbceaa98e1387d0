// The replay engine of the demo: reads a recording and applies it, line by line, to an
// EventBuffer, an InMemoryEventLog and an ActivityBuffer whose clocks are the recording's clock.
// No DOM here: the page (demo.js) renders what this module's state and the library report.
//
// A recording is JSON Lines, one object per line, in time order (`t`: milliseconds since the
// epoch, never decreasing):
//   {"kind":"meta", "name": ..., ...}                  optional, first line; no `t`
//   {"t":…, "kind":"payload", "payload": {connector payload}}    -> eventBuffer.add(parsePayload(payload))
//   {"t":…, "kind":"drain"}                                       -> eventBuffer.drain()
//   {"t":…, "kind":"log", "event": "turn.started", "payload": {…}}  -> log.append(event, payload)
//   {"t":…, "kind":"envelope", "direction": "in"|"out", "envelope": {…}}
//        -> activity.checkDuplicate(envelope); a 'duplicate' is skipped, otherwise
//           recordIncoming / recordOutgoing (a string `payload` is taken as UTF-8 bytes)
//   {"t":…, "kind":"ack", "ack": {ack_for_message_id, ack_stage, error_code?, note?}}  -> activity.ack(ack)
//   {"t":…, "kind":"state", "message_id": …, "state": 0-7}       -> activity.updateState(id, state)
// A SW4RM activity snapshot ({ records, order, version }) is also a recording: no lines, and the
// ActivityBuffer starts from the snapshot (ActivityBuffer.fromSnapshot).
//
// Two cursor readers poll the log with `read`: the fast one after every line (up to 100 events),
// the slow one every 30 s of recorded time (up to 10 events), so it falls behind and the log's
// `missed` tells it how many events were evicted before it saw them.
//
// Invariant: the state after applying lines [0, n) depends only on the recording, the settings
// and n. Seeking backwards and changing a setting therefore rebuild the state from the start.
import { ActivityBuffer, BufferFullError, EventBuffer, InMemoryEventLog, parsePayload } from 'tidepool';

export const DEFAULT_SETTINGS = Object.freeze({
  bufferMaxSize: 20,
  logMaxEntries: 60,
  logTtlSeconds: 75,
  activityMaxItems: 40,
  activityStrategy: 'settled-first',
  activityOnFull: 'evict',
  dedupWindowS: 300,
});
export const FAST_READER = Object.freeze({ limit: 100 });
export const SLOW_READER = Object.freeze({ everyMs: 30_000, limit: 10 });
/** How many entries the feed and the dedup list keep for display (their totals come from stats()). */
const FEED_KEEP = 200;

/** A recording that cannot be read; `line` is 1-based (0 for the file as a whole). */
export class RecordingError extends Error {
  constructor(message, line = 0) {
    super(line ? `line ${line}: ${message}` : message);
    this.name = 'RecordingError';
    this.code = 'RECORDING_INVALID';
    this.line = line;
  }
}

const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * Reads a recording from text: JSON Lines as above, or a SW4RM activity snapshot. Checks the
 * shape of every line (the library checks the contents when the line is applied). Throws
 * RecordingError naming the first bad line.
 */
export function parseRecording(text, name = 'recording') {
  const trimmed = text.trim();
  if (trimmed === '') throw new RecordingError(`${name} is empty`);
  let whole;
  try {
    whole = JSON.parse(trimmed);
  } catch {
    whole = undefined; // not one JSON value: JSON Lines
  }
  if (isObject(whole) && !('kind' in whole) && ('records' in whole || 'order' in whole)) {
    return { name, meta: { name }, lines: [], snapshot: whole, start: 0, end: 0 };
  }
  const lines = [];
  let meta = { name };
  let previous = -Infinity;
  const rows = text.split('\n');
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i].trim();
    if (row === '') continue;
    const number = i + 1;
    let line;
    try {
      line = JSON.parse(row);
    } catch (error) {
      throw new RecordingError(`not JSON (${error.message})`, number);
    }
    if (!isObject(line)) throw new RecordingError('expected an object', number);
    if (line.kind === 'meta') {
      if (lines.length) throw new RecordingError('"meta" must be the first line', number);
      meta = { ...line, name: typeof line.name === 'string' ? line.name : name };
      continue;
    }
    if (typeof line.t !== 'number' || !Number.isFinite(line.t)) {
      throw new RecordingError('"t" must be a number of milliseconds', number);
    }
    if (line.t < previous) throw new RecordingError(`"t" goes backwards (${line.t} < ${previous})`, number);
    previous = line.t;
    const problem = shapeProblem(line);
    if (problem) throw new RecordingError(problem, number);
    lines.push(line);
  }
  if (lines.length === 0) throw new RecordingError(`${name} has no events`);
  return { name: meta.name, meta, lines, snapshot: null, start: lines[0].t, end: lines[lines.length - 1].t };
}

function shapeProblem(line) {
  switch (line.kind) {
    case 'payload':
      return isObject(line.payload) ? '' : '"payload" must be an object';
    case 'drain':
      return '';
    case 'log':
      if (typeof line.event !== 'string' || line.event === '') return '"event" must be a non-empty string';
      return line.payload === undefined || isObject(line.payload) ? '' : '"payload" must be an object';
    case 'envelope':
      if (line.direction !== 'in' && line.direction !== 'out') return '"direction" must be "in" or "out"';
      return isObject(line.envelope) ? '' : '"envelope" must be an object';
    case 'ack':
      return isObject(line.ack) ? '' : '"ack" must be an object';
    case 'state':
      return typeof line.message_id === 'string' ? '' : '"message_id" must be a string';
    default:
      return `unknown kind ${JSON.stringify(line.kind)}`;
  }
}

const encoder = new TextEncoder();

/**
 * One replay: the three buffers, the two readers, and what the page shows of their history.
 * The constructor throws the library's error (TypeError, RangeError, SnapshotError,
 * BufferFullError) when the settings or the snapshot are refused.
 */
export class Replay {
  constructor(recording, settings = DEFAULT_SETTINGS) {
    this.recording = recording;
    this.settings = { ...settings };
    this.position = 0;
    this.clock = recording.start;
    /** Recent drops, evictions, rejections and dedup skips, newest last. */
    this.feed = [];
    /** Checks that found a record: { t, message_id, direction, status, original }. */
    this.dedup = [];
    this.duplicatesSkipped = 0;
    this.drained = 0;
    this.lastDrain = null;
    /** message_id -> { direction, t, stages: [{ t, stage }] }: the stage the library reported after each call. */
    this.timeline = new Map();
    /** Occupancy after each line: { t, buffer, log, activity }. */
    this.series = [];
    this.fast = { cursor: 0, received: 0, missed: 0 };
    this.slow = { cursor: 0, received: 0, missed: 0, nextAt: recording.start };
    this.rejected = 0;
    this.unknownAcks = 0;
    /** Lines whose contents the library refused. */
    this.refused = 0;

    const clockMs = () => this.clock;
    this.buffer = new EventBuffer({
      maxSize: settings.bufferMaxSize,
      onDrop: (payload) => this.#note('drop', `EventBuffer dropped the oldest payload: ${payload.type} of ${payload.session_id ?? 'no session'}`),
    });
    this.log = new InMemoryEventLog({
      maxEntries: settings.logMaxEntries,
      ttlSeconds: settings.logTtlSeconds,
      now: () => clockMs() / 1000,
    });
    const activityOptions = {
      maxItems: settings.activityMaxItems,
      dedupWindowS: settings.dedupWindowS,
      strategy: strategyOption(settings.activityStrategy),
      onFull: settings.activityOnFull,
      now: clockMs,
    };
    this.activity = recording.snapshot
      ? ActivityBuffer.fromSnapshot(recording.snapshot, activityOptions)
      : new ActivityBuffer(activityOptions);
    if (recording.snapshot) {
      for (const record of this.activity.recent(this.activity.size)) {
        this.timeline.set(record.message_id, { direction: record.direction, t: record.ts_ms, stages: [{ t: record.ts_ms, stage: record.ack_stage }] });
      }
    }
    this.logStats = this.log.stats();
    this.activityStats = this.activity.stats();
    this.#sample();
  }

  get length() {
    return this.recording.lines.length;
  }

  get done() {
    return this.position >= this.length;
  }

  /** Applies lines until `index` (exclusive); forward only. */
  stepTo(index) {
    const end = Math.min(index, this.length);
    while (this.position < end) this.#apply(this.recording.lines[this.position++]);
  }

  /** Applies every line with `t <= time`, then sets the clock to `time` (not past the end). */
  runUntil(time) {
    const lines = this.recording.lines;
    while (this.position < lines.length && lines[this.position].t <= time) this.#apply(lines[this.position++]);
    this.clock = Math.max(this.clock, Math.min(time, this.recording.end));
  }

  #apply(line) {
    this.clock = line.t;
    try {
      this.#applyLine(line);
    } catch (error) {
      // The library refused the line's contents (PayloadError, TypeError, RangeError): it
      // changed nothing; the line is counted and reported, and the replay goes on.
      this.refused++;
      this.#note('refused', `event ${this.position} (${line.kind}) refused: ${error.name}${error.code ? ` ${error.code}` : ''}: ${error.message}`);
    }
    this.#readers();
    this.#countEvictions();
    this.#sample();
  }

  #applyLine(line) {
    switch (line.kind) {
      case 'payload':
        this.buffer.add(parsePayload(line.payload));
        break;
      case 'drain': {
        const payloads = this.buffer.drain();
        this.drained += payloads.length;
        this.lastDrain = { t: line.t, payloads };
        break;
      }
      case 'log':
        this.log.append(line.event, line.payload ?? {});
        break;
      case 'envelope':
        this.#envelope(line);
        break;
      case 'ack': {
        const record = this.activity.ack(line.ack);
        if (record === undefined) {
          this.unknownAcks++;
          this.#note('ack', `ACK for ${short(line.ack.ack_for_message_id)}: no such record (evicted, rejected or never seen)`);
        } else {
          const entry = this.timeline.get(record.message_id);
          const last = entry?.stages[entry.stages.length - 1];
          if (entry && last.stage !== record.ack_stage) entry.stages.push({ t: line.t, stage: record.ack_stage });
        }
        break;
      }
      case 'state':
        this.activity.updateState(line.message_id, line.state);
        break;
      default:
        break;
    }
  }

  #envelope({ direction, envelope: recorded, t }) {
    const envelope = typeof recorded.payload === 'string' ? { ...recorded, payload: encoder.encode(recorded.payload) } : recorded;
    const check = this.activity.checkDuplicate(envelope);
    if (check.status !== 'new') {
      this.dedup.push({ t, message_id: envelope.message_id, direction, status: check.status, original: check.record.message_id });
      if (this.dedup.length > FEED_KEEP) this.dedup.shift();
    }
    if (check.status === 'duplicate') {
      this.duplicatesSkipped++;
      this.#note('dedup', `skipped ${short(envelope.message_id)}: a duplicate of ${short(check.record.message_id)} (already processed)`);
      return;
    }
    try {
      const record = direction === 'in' ? this.activity.recordIncoming(envelope) : this.activity.recordOutgoing(envelope);
      this.timeline.set(record.message_id, { direction, t, stages: [{ t, stage: record.ack_stage }] });
    } catch (error) {
      if (!(error instanceof BufferFullError)) throw error;
      this.rejected++;
      this.#note('reject', `ActivityBuffer full (${error.currentSize} of ${error.maxSize}): ${short(envelope.message_id)} rejected`);
    }
  }

  #readers() {
    const fast = this.log.read({ since: this.fast.cursor, limit: FAST_READER.limit });
    this.fast.cursor = fast.nextSince;
    this.fast.received += fast.events.length;
    this.fast.missed += fast.missed;
    if (this.clock >= this.slow.nextAt) {
      while (this.slow.nextAt <= this.clock) this.slow.nextAt += SLOW_READER.everyMs;
      const slow = this.log.read({ since: this.slow.cursor, limit: SLOW_READER.limit });
      this.slow.cursor = slow.nextSince;
      this.slow.received += slow.events.length;
      this.slow.missed += slow.missed;
      if (slow.missed) this.#note('missed', `slow reader: ${slow.missed} events evicted before it read them`);
    }
  }

  #countEvictions() {
    const log = this.log.stats();
    const ttl = log.evictedByTtl - this.logStats.evictedByTtl;
    const size = log.evictedBySize - this.logStats.evictedBySize;
    if (ttl) this.#note('evict', `EventLog evicted ${ttl} by TTL (older than ${this.log.ttlSeconds} s)`);
    if (size) this.#note('evict', `EventLog evicted ${size} by size (over ${this.log.maxEntries})`);
    const bytes = (log.evictedByBytes ?? 0) - (this.logStats.evictedByBytes ?? 0);
    if (bytes) this.#note('evict', `EventLog evicted ${bytes} by bytes (payloads over maxBytes)`);
    this.logStats = log;
    const activity = this.activity.stats();
    const evicted = activity.evictions - this.activityStats.evictions;
    if (evicted) this.#note('evict', `ActivityBuffer evicted ${evicted} record${evicted === 1 ? '' : 's'} (${this.settings.activityStrategy})`);
    this.activityStats = activity;
  }

  #sample() {
    this.series.push({ t: this.clock, buffer: this.buffer.size, log: this.logStats.resident, activity: this.activity.size });
  }

  #note(type, text) {
    this.feed.push({ t: this.clock, type, text });
    if (this.feed.length > FEED_KEEP) this.feed.shift();
  }
}

function strategyOption(name) {
  return name === 'random' ? { random: { seed: 15 } } : name;
}

export const short = (id) => (typeof id === 'string' && id.length > 8 ? id.slice(0, 8) : String(id));
