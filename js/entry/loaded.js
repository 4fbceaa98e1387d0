// `ready` and `init` for the runtimes whose entry instantiates the module synchronously.

/** Resolved once the wasm module is ready (already, in this runtime). */
export const ready = Promise.resolve();

/** Idempotent; the module is already loaded in this runtime. */
export function init() {
  return ready;
}
