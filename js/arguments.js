// Checks of JS-only arguments (option bags, callbacks) shared by the public classes.
// Values that cross into the core are checked in src/wasm/convert.rs instead.

/** A short description of a value's type for error messages. */
export function describe(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

/**
 * `options` if it is an options object, `{}` if omitted; otherwise a TypeError naming `what`.
 * With `known` (an array or Set of option names), an own property not in it is a TypeError
 * naming that option, so a misspelt option never silently falls back to a default.
 */
export function optionsObject(options, what, known) {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${what} options must be an object, got ${describe(options)}`);
  }
  if (known !== undefined) {
    const names = known instanceof Set ? known : new Set(known);
    for (const name of Object.keys(options)) {
      if (!names.has(name)) {
        throw new TypeError(`${what}: unknown option ${JSON.stringify(name)} (known: ${[...names].join(', ')})`);
      }
    }
  }
  return options;
}
