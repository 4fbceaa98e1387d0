// Checks of JS-only arguments (option bags, callbacks) shared by the public classes.
// Values that cross into the core are checked in src/wasm/convert.rs instead.

/**
 * What kind of value this is, for error messages: 'null', 'undefined', 'a number',
 * 'a function', 'an array', 'an object' (plain), 'a Date', 'an ArrayBuffer' (built-in
 * classes), 'an instance of Foo' (other classes). Never a primitive's value (it may be a
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
  const prototype = Object.getPrototypeOf(value);
  if (prototype === null || Object.getPrototypeOf(prototype) === null) return 'an object';
  // The prototype's constructor, not `value.constructor`: an own `constructor` key is data.
  const constructor = Object.getOwnPropertyDescriptor(prototype, 'constructor')?.value;
  const name = typeof constructor === 'function' ? constructor.name : '';
  if (!name) return 'an object with a custom prototype';
  if (!Function.prototype.toString.call(constructor).endsWith('[native code] }')) return `an instance of ${name}`;
  return `${/^[AEIO]/.test(name) ? 'an' : 'a'} ${name}`;
}

/**
 * Binds every method of `instance`'s classes (up to, not including, Object.prototype) to it,
 * as non-enumerable own properties, so that any method can be passed as a callback
 * (`client.onActions(buffer.add)`, `const { drain } = buffer`). Getters are left alone.
 */
export function bindMethods(instance) {
  for (let prototype = Object.getPrototypeOf(instance); prototype !== Object.prototype && prototype !== null;
    prototype = Object.getPrototypeOf(prototype)) {
    for (const name of Object.getOwnPropertyNames(prototype)) {
      if (name === 'constructor' || Object.hasOwn(instance, name)) continue;
      const { value } = Object.getOwnPropertyDescriptor(prototype, name);
      if (typeof value !== 'function') continue;
      Object.defineProperty(instance, name, { value: value.bind(instance), writable: true, configurable: true });
    }
  }
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
