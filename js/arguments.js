// Checks of JS-only arguments (option bags, callbacks) shared by the public classes.
// Values that cross into the core are checked in src/wasm/convert.rs instead.

/**
 * What kind of value this is, for error messages: 'null', 'undefined', 'a number',
 * 'a function', 'an array', 'a Date object', ... Never a primitive's value (it may be a
 * secret); the same words as the core's messages (src/wasm/convert.rs `kind`).
 */
export function describe(value) {
  if (value === null || value === undefined) return String(value);
  switch (typeof value) {
    case 'function': return 'a function';
    case 'bigint': return 'a BigInt';
    case 'symbol': return 'a symbol';
    case 'object': break;
    default: return `a ${typeof value}`;
  }
  if (Array.isArray(value)) return 'an array';
  const name = value.constructor?.name;
  return name ? `a ${name} object` : 'a non-plain object';
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
