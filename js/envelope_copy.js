// The copies of envelopes that ActivityBuffer keeps on the JS heap (js/activity.js).
//
// `copyEnvelope` checks an envelope by the rules src/wasm/convert.rs applies to envelopes
// that cross into Rust (`json_or_bytes_fields`), with the same messages: a plain object
// whose values are `Uint8Array`s (top level only, copied) or strict JSON data (plain
// objects, arrays, strings, finite numbers, booleans, null; properties whose value is
// `undefined` are left out; no cycles; at most 128 levels deep).

import { describe } from './arguments.js';

const MAX_DEPTH = 128;

class NotJson extends TypeError {}

/**
 * Sets `object[key] = value` as an own data property, as `JSON.parse` creates it. Plain
 * assignment would call the `__proto__` setter for that key (changing the copy's prototype
 * and losing the key); every other key is an ordinary assignment.
 */
function setData(object, key, value) {
  if (key === '__proto__') {
    Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    object[key] = value;
  }
}

/** A plain object: prototype `null`, or one whose prototype is `null` (any realm's Object.prototype). */
function isPlainObject(value) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === null || Object.getPrototypeOf(prototype) === null;
}

function fail(path, problem) {
  throw new NotJson(`envelope.${path} is ${problem}`);
}

function copyJson(value, path, ancestors) {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : fail(path, String(value));
    case 'object':
      if (value === null) return null;
      break;
    default:
      return fail(path, describe(value));
  }
  const isArray = Array.isArray(value);
  if (!isArray && !isPlainObject(value)) fail(path, describe(value));
  if (ancestors.includes(value)) fail(path, 'a circular reference');
  if (ancestors.length >= MAX_DEPTH) fail(path, `nested deeper than ${MAX_DEPTH} levels`);
  ancestors.push(value);
  let copy;
  if (isArray) {
    copy = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      if (value[i] === undefined) fail(`${path}[${i}]`, 'undefined');
      copy[i] = copyJson(value[i], `${path}[${i}]`, ancestors);
    }
  } else {
    copy = {};
    for (const key of Object.keys(value)) {
      const item = value[key];
      if (item !== undefined) setData(copy, key, copyJson(item, `${path}.${key}`, ancestors));
    }
  }
  ancestors.pop();
  return copy;
}

/** An independent, checked copy of `envelope`; a TypeError naming the field otherwise. */
export function copyEnvelope(envelope) {
  if (!isPlainObject(envelope)) {
    throw new TypeError(`envelope is ${describe(envelope)} (expected a plain object)`);
  }
  const copy = {};
  const ancestors = [envelope];
  for (const key of Object.keys(envelope)) {
    const item = envelope[key];
    if (item === undefined) continue;
    setData(copy, key, item instanceof Uint8Array ? item.slice() : copyJson(item, key, ancestors));
  }
  return copy;
}

/** An independent copy of an envelope `copyEnvelope` produced (no checks needed). */
export function cloneEnvelope(envelope) {
  const copy = {};
  for (const key of Object.keys(envelope)) setData(copy, key, cloneData(envelope[key]));
  return copy;
}

function cloneData(value) {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Uint8Array) return value.slice();
  if (Array.isArray(value)) return value.map(cloneData);
  const copy = {};
  for (const key of Object.keys(value)) setData(copy, key, cloneData(value[key]));
  return copy;
}
