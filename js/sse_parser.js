// A streaming parser of Server-Sent Events, following the "event stream" interpretation of
// the WHATWG HTML specification: `data:` lines joined with "\n", comments, `event:`, `id:`
// (ignored when it contains NUL), `retry:` (ASCII digits only), LF, CR and CRLF line ends, one
// leading BOM, and an event that is cut off by the end of the stream is not dispatched.
//
// Invariants:
// - Bytes go in as they arrive (`feed`), split anywhere: a multi-byte UTF-8 character, a line,
//   a CR and its LF may each be split across chunks. The decoder runs in stream mode, and a
//   partial line is kept as a list of fragments joined once when its line end arrives, so the
//   cost is linear in the stream's length however many chunks an event spans.
// - An event's size is the number of bytes of its lines, line ends included, from its first
//   line to the blank line that ends it. An event larger than `maxEventBytes` is never
//   dispatched, and no more than about `maxEventBytes` of it (plus the chunk being parsed) is
//   held: once over the limit, its lines are discarded until the blank line, and it is
//   reported to `onSkip('tooLarge')`.
// - `lastEventId` is the specification's "last event ID string": the id buffer copied at each
//   dispatch point, kept across connections (`end()` and the next `feed`), sent back by the
//   client as Last-Event-ID.

const LF = 10;
const CR = 13;
const COLON = 58;
const SPACE = 32;

/** Bytes at the end of `bytes` that may be the start of a UTF-8 character the decoder holds back. */
function heldTail(bytes) {
  const n = bytes.length;
  for (let k = 1; k <= 3 && k <= n; k++) {
    const b = bytes[n - k];
    if (b < 0x80) return 0;
    if (b >= 0xc0) {
      const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      return length > k ? k : 0;
    }
  }
  return 0;
}

/** UTF-8 length of `s[a, b)` (decoded text holds no lone surrogates: each surrogate is 2 of a pair's 4 bytes). */
function utf8Length(s, a, b) {
  let n = b - a;
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) n += c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 1 : 2;
  }
  return n;
}

export class SseParser {
  #onEvent;
  #onRetry;
  #onSkip;
  #maxEventBytes;
  #decoder = new TextDecoder();
  /** Whether the decoder may be holding bytes of a character from the previous chunk. */
  #held = false;
  /** The partial line: fragments of earlier chunks, joined when its line end arrives. */
  #fragments = [];
  /** A line is in progress (its fragments are kept, or discarded while skipping). */
  #partial = false;
  /** The previous chunk ended with a CR: a LF starting the next chunk belongs to it. */
  #skipLF = false;
  /** The current event went over the limit: its lines are discarded up to its blank line. */
  #skipping = false;
  /** Bytes of the current event in earlier chunks (its partial line included). */
  #eventBytes = 0;
  #data = '';
  #hasData = false;
  #type = '';
  #idBuffer = '';
  /** The last event ID string (see the invariants above). */
  lastEventId = '';

  /**
   * `onEvent(data, type, lastEventId, previousLastEventId)` for each dispatched event (`type`
   * 'message' when the stream named none); `onRetry(ms)` for each valid `retry:`;
   * `onSkip(reason)` for each event not dispatched: 'tooLarge', or 'incomplete' (cut off by
   * the end of the stream).
   */
  constructor({ onEvent, onRetry = () => {}, onSkip = () => {}, maxEventBytes = 1 << 20, lastEventId = '' }) {
    this.#onEvent = onEvent;
    this.#onRetry = onRetry;
    this.#onSkip = onSkip;
    this.#maxEventBytes = maxEventBytes;
    this.lastEventId = lastEventId;
    this.#idBuffer = lastEventId;
  }

  /** Parses the next chunk of the stream (a Uint8Array); dispatches the events it completes. */
  feed(bytes) {
    const text = this.#decoder.decode(bytes, { stream: true });
    const heldBefore = this.#held;
    // A short chunk may only extend a character held from before: stay conservative.
    this.#held = heldTail(bytes) > 0 || (heldBefore && bytes.length < 4);
    // When each byte of the chunk became one UTF-16 unit, byte counts are index differences.
    const oneByteUnits = !heldBefore && !this.#held && text.length === bytes.length;
    this.#scan(text, oneByteUnits);
  }

  /**
   * The stream ended (or was cut): an event in progress is discarded (reported to `onSkip`),
   * and the parser is ready for the next connection's stream. `lastEventId` is kept.
   */
  end() {
    this.#decoder.decode();
    let reason = null;
    if (this.#skipping) reason = 'tooLarge';
    else if (this.#hasData || (this.#partial && !(this.#fragments[0] ?? '').startsWith(':'))) reason = 'incomplete';
    this.#decoder = new TextDecoder();
    this.#held = false;
    this.#fragments = [];
    this.#partial = false;
    this.#skipLF = false;
    this.#skipping = false;
    this.#eventBytes = 0;
    this.#resetEvent();
    this.#idBuffer = this.lastEventId;
    if (reason !== null) this.#onSkip(reason);
  }

  /** Sets the last event ID string (e.g. restored from storage) before the next stream. */
  setLastEventId(id) {
    this.lastEventId = id;
    this.#idBuffer = id;
  }

  #scan(text, oneByteUnits) {
    const n = text.length;
    let pos = 0;
    if (this.#skipLF) {
      if (n === 0) return;
      this.#skipLF = false;
      if (text.charCodeAt(0) === LF) pos = 1;
    }
    // Where the current event starts in this chunk (0: in an earlier chunk, or at the start).
    let eventStart = this.#eventBytes === 0 && !this.#partial ? pos : 0;
    let cr = text.indexOf('\r', pos);
    let lf = text.indexOf('\n', pos);
    while (pos < n) {
      if (cr !== -1 && cr < pos) cr = text.indexOf('\r', pos);
      if (lf !== -1 && lf < pos) lf = text.indexOf('\n', pos);
      const end = cr === -1 ? lf : lf === -1 || cr < lf ? cr : lf;
      if (end === -1) break;
      let next = end + 1;
      if (end === cr) {
        if (next === n) this.#skipLF = true;
        else if (text.charCodeAt(next) === LF) next += 1;
      }
      if (this.#partial) {
        // The line began in an earlier chunk.
        this.#partial = false;
        if (!this.#skipping) {
          this.#fragments.push(text.slice(pos, end));
          const line = this.#fragments.join('');
          this.#fragments = [];
          this.#line(line, 0, line.length);
        }
      } else if (pos === end) {
        // A UTF-16 unit is at most 3 UTF-8 bytes: count exactly only near the limit.
        const units = pos - eventStart;
        const size = oneByteUnits || this.#eventBytes + units * 3 <= this.#maxEventBytes
          ? this.#eventBytes + units
          : this.#eventBytes + utf8Length(text, eventStart, pos);
        this.#dispatch(size);
        this.#eventBytes = 0;
        eventStart = next;
      } else {
        this.#line(text, pos, end);
      }
      pos = next;
    }
    if (pos < n) {
      this.#partial = true;
      if (!this.#skipping) this.#fragments.push(pos === 0 ? text : text.slice(pos));
    }
    if (eventStart < n) {
      this.#eventBytes += oneByteUnits ? n - eventStart : utf8Length(text, eventStart, n);
      if (!this.#skipping && this.#eventBytes > this.#maxEventBytes) {
        this.#skipping = true;
        this.#fragments = [];
        this.#resetEvent();
      }
    }
  }

  /** One non-empty line, `s[start, end)`. */
  #line(s, start, end) {
    if (this.#skipping) return;
    const c = s.charCodeAt(start);
    if (c === COLON) return;
    // `data:`, by far the most frequent line, without slicing the field name.
    if (c === 100 && end - start >= 5 && s.charCodeAt(start + 4) === COLON && s.charCodeAt(start + 1) === 97
      && s.charCodeAt(start + 2) === 116 && s.charCodeAt(start + 3) === 97) {
      const from = start + 5 < end && s.charCodeAt(start + 5) === SPACE ? start + 6 : start + 5;
      this.#appendData(s.slice(from, end));
      return;
    }
    // `id:` and `event:`, the other frequent lines.
    if (c === 105 && end - start >= 3 && s.charCodeAt(start + 2) === COLON && s.charCodeAt(start + 1) === 100) {
      const value = s.slice(start + 3 < end && s.charCodeAt(start + 3) === SPACE ? start + 4 : start + 3, end);
      if (!value.includes('\0')) this.#idBuffer = value;
      return;
    }
    if (c === 101 && end - start >= 6 && s.charCodeAt(start + 5) === COLON && s.startsWith('event', start)) {
      this.#type = s.slice(start + 6 < end && s.charCodeAt(start + 6) === SPACE ? start + 7 : start + 6, end);
      return;
    }
    let colon = start;
    while (colon < end && s.charCodeAt(colon) !== COLON) colon++;
    const name = s.slice(start, colon);
    let from = colon + 1;
    if (from < end && s.charCodeAt(from) === SPACE) from += 1;
    const value = colon < end ? s.slice(from, end) : '';
    switch (name) {
      case 'data':
        this.#appendData(value);
        break;
      case 'event':
        this.#type = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.#idBuffer = value;
        break;
      case 'retry':
        if (/^[0-9]+$/.test(value)) this.#onRetry(Number(value));
        break;
      default:
        // Unknown fields are ignored.
        break;
    }
  }

  #appendData(value) {
    if (this.#hasData) this.#data = `${this.#data}\n${value}`;
    else {
      this.#data = value;
      this.#hasData = true;
    }
  }

  /** A blank line: the event ends; `size` its bytes. */
  #dispatch(size) {
    const previousId = this.lastEventId;
    this.lastEventId = this.#idBuffer;
    if (this.#skipping) {
      this.#skipping = false;
      this.#onSkip('tooLarge');
      return;
    }
    if (!this.#hasData) {
      this.#type = '';
      return;
    }
    const data = this.#data;
    const type = this.#type || 'message';
    this.#resetEvent();
    if (size > this.#maxEventBytes) this.#onSkip('tooLarge');
    else this.#onEvent(data, type, this.lastEventId, previousId);
  }

  #resetEvent() {
    this.#data = '';
    this.#hasData = false;
    this.#type = '';
  }
}
