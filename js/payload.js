// The connector payload functions; validation and formatting live in src/core/payload.rs.
import * as core from './wasm/tidepool.js';
import { callCore } from './errors.js';

/** Validates and normalises a connector payload; throws PayloadError naming the field. */
export function parsePayload(value) {
  return callCore(() => core.parsePayload(value));
}

/** The embedding-ready text of a payload (validated first). */
export function toText(payload) {
  return callCore(() => core.toText(payload));
}

/** Merges actions payloads of one session into one, actions re-indexed from 0. */
export function mergeActions(payloads) {
  return callCore(() => core.mergeActions(payloads));
}
