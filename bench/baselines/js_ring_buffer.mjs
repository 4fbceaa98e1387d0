// Baseline for bench/event_buffer.bench.mjs: EventBuffer's semantics in plain JS, written
// the way one would by hand — a growable ring over an array — with the same argument checks,
// drop reporting and counters, so the comparison measures the wasm core and nothing else.

export class JsRingBuffer {
  #items;
  #head = 0;
  #length = 0;
  #maxSize;
  #onDrop;
  droppedCount = 0;

  constructor({ maxSize = 1000, onDrop } = {}) {
    if (!Number.isInteger(maxSize) || maxSize < 0) throw new RangeError('maxSize');
    this.#maxSize = maxSize;
    this.#onDrop = onDrop;
    this.#items = new Array(maxSize === 0 ? 16 : maxSize);
    this.add = this.add.bind(this);
  }

  add(payload) {
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) throw new TypeError('payload');
    if (this.#maxSize > 0 && this.#length === this.#maxSize) {
      const dropped = this.#items[this.#head];
      this.#items[this.#head] = payload;
      this.#head = (this.#head + 1) % this.#maxSize;
      this.droppedCount++;
      try {
        this.#onDrop?.(dropped);
      } catch (error) {
        console.warn(error);
      }
      return;
    }
    if (this.#length === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#length) % this.#items.length] = payload;
    this.#length++;
  }

  drain() {
    const out = new Array(this.#length);
    for (let i = 0; i < this.#length; i++) out[i] = this.#items[(this.#head + i) % this.#items.length];
    this.#items = new Array(this.#maxSize === 0 ? 16 : this.#maxSize);
    this.#head = 0;
    this.#length = 0;
    return out;
  }

  get size() {
    return this.#length;
  }

  #grow() {
    const items = new Array(this.#items.length * 2);
    for (let i = 0; i < this.#length; i++) items[i] = this.#items[(this.#head + i) % this.#items.length];
    this.#items = items;
    this.#head = 0;
  }
}
