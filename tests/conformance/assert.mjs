// Minimal assertions that work in every runtime (no node:assert in browsers or workerd).

export class CheckFailed extends Error {}

export function assert(condition, message) {
  if (!condition) throw new CheckFailed(message);
}

export function assertEqual(actual, expected, message) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  assert(a === e, `${message}: expected ${e}, got ${a}`);
}

export function assertThrows(fn, ErrorClass, message) {
  try {
    fn();
  } catch (error) {
    assert(error instanceof ErrorClass, `${message}: threw ${error?.name}: ${error?.message}`);
    return error;
  }
  throw new CheckFailed(`${message}: did not throw`);
}

