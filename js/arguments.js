// Checks of JS-only arguments (option bags, callbacks) shared by the public classes.
// Values that cross into the core are checked in src/wasm/convert.rs instead.

/** A short description of a value's type for error messages. */
export function describe(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

/** `options` if it is an options object, `{}` if omitted; otherwise a TypeError naming `what`. */
export function optionsObject(options, what) {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${what} options must be an object, got ${describe(options)}`);
  }
  return options;
}
