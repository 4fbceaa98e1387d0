// parsePayload, toText and mergeActions in Node, against the built package.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePayload, toText, mergeActions, PayloadError, TidepoolError } from '../../pkg/entry/node.js';

const wireActions = {
  type: 'actions',
  product_id: 'prod_1',
  session_id: 'ps_abc123',
  user_id: '',
  email: 'user@example.com',
  actions: [
    { title: 'Page Load: Dashboard', description: 'User landed on the main Dashboard page',
      canonical_url: 'https://app.example.com/dashboard', index: 0, type: 'pageview',
      timestamp_start: 1700000000.5, timestamp_end: 1700000001.5, raw_url: 'https://app.example.com/dashboard?a=1',
      session_id: 'ps_abc123', user_id: null, email: '', conversation_id: 'c1', unknown: 1 },
    { description: 'User clicked Export CSV button', canonical_url: 'https://app.example.com/dashboard', index: 1, type: 'click' },
  ],
  count: 5,
  forwarded_at: 1700000002.25,
};

test('parsePayload normalises an actions payload to the wire shape', () => {
  const parsed = parsePayload(wireActions);
  assert.equal(parsed.count, 2);
  assert.equal(parsed.user_id, null);
  assert.equal(parsed.conversation_id, null);
  assert.equal(parsed.actions[0].email, null);
  assert.equal(parsed.actions[0].conversation_id, 'c1');
  assert.equal(parsed.actions[0].unknown, undefined);
  assert.equal(parsed.actions[1].title, '');
  assert.equal(parsed.actions[1].session_id, null);
  assert.deepEqual(Object.keys(parsed).sort(), ['actions', 'conversation_id', 'count', 'email', 'forwarded_at',
    'product_id', 'session_id', 'type', 'user_id']);
  assert.deepEqual(parsePayload(parsed), parsed, 'normalising is idempotent');
  assert.equal(wireActions.count, 5, 'the input is not modified');
});

test('parsePayload fills summary defaults', () => {
  assert.deepEqual(parsePayload({ type: 'summary', summary: 'did x', session_id: '' }), {
    type: 'summary', product_id: '', session_id: null, summary: 'did x', replaces: 0, forwarded_at: 0,
  });
});

test('parsePayload throws PayloadError naming the field', () => {
  const cases = [
    [null, ''],
    ['text', ''],
    [{}, 'type'],
    [{ type: 'event' }, 'type'],
    [{ type: 'actions', actions: 'x' }, 'actions'],
    [{ type: 'actions', actions: [{ index: -0.5 }] }, 'actions[0].index'],
    [{ type: 'actions', actions: [{}, { timestamp_start: '1' }] }, 'actions[1].timestamp_start'],
    [{ type: 'actions', email: 7 }, 'email'],
    [{ type: 'summary', summary: ['a'] }, 'summary'],
    [{ type: 'summary', forwarded_at: Infinity }, 'forwarded_at'],
    [{ type: 'summary', replaces: 10n }, 'replaces'],
    [{ type: 'actions', actions: [{ title: () => 'x' }] }, 'actions[0].title'],
    [{ type: 'summary', product_id: new Date(0) }, 'product_id'],
    [(() => { const p = { type: 'actions', actions: [{}] }; p.actions[0].self = p; return p; })(), 'actions[0].self'],
  ];
  for (const [caseIndex, [value, field]] of cases.entries()) {
    assert.throws(() => parsePayload(value), (error) => {
      assert.ok(error instanceof PayloadError && error instanceof TidepoolError, String(error));
      assert.equal(error.code, 'INVALID_PAYLOAD');
      assert.equal(error.field, field, `case ${caseIndex}`);
      assert.equal(error.name, 'PayloadError');
      if (field) assert.ok(error.message.startsWith(`${field}: `), error.message);
      return true;
    });
  }
});

test('toText formats actions like the reference and returns a summary as is', () => {
  assert.equal(
    toText(wireActions),
    'Session ps_abc123 — 2 actions\n' +
      '[0] pageview: User landed on the main Dashboard page — https://app.example.com/dashboard\n' +
      '[1] click: User clicked Export CSV button — https://app.example.com/dashboard',
  );
  assert.equal(toText({ type: 'actions', session_id: null }), 'Session unknown — 0 actions');
  assert.equal(toText({ type: 'summary', summary: 'The user exported a CSV.' }), 'The user exported a CSV.');
  assert.throws(() => toText({ type: 'nope' }), PayloadError);
});

test('mergeActions concatenates, re-indexes, and resolves identity and time', () => {
  const merged = mergeActions([
    { ...wireActions, forwarded_at: 10 },
    { type: 'actions', product_id: 'p2', session_id: 's2', user_id: 'u2', conversation_id: 'c2',
      forwarded_at: 30, actions: [{ index: 7, type: 'submit' }] },
    { type: 'actions', user_id: 'u3', email: 'other@example.com', forwarded_at: 20 },
  ]);
  assert.equal(merged.product_id, 'prod_1');
  assert.equal(merged.session_id, 'ps_abc123');
  assert.equal(merged.user_id, 'u2');
  assert.equal(merged.email, 'user@example.com');
  assert.equal(merged.conversation_id, 'c2');
  assert.equal(merged.forwarded_at, 30);
  assert.equal(merged.count, 3);
  assert.deepEqual(merged.actions.map((a) => a.index), [0, 1, 2]);
  assert.equal(merged.actions[2].type, 'submit');
});

test('mergeActions rejects an empty list, non-arrays and non-actions payloads', () => {
  assert.throws(() => mergeActions([]), PayloadError);
  assert.throws(() => mergeActions('x'), TypeError);
  assert.throws(() => mergeActions([{ type: 'actions' }, { type: 'summary' }]), (error) => {
    assert.ok(error instanceof PayloadError);
    assert.equal(error.field, '[1].type');
    return true;
  });
  assert.throws(() => mergeActions([{ type: 'actions', actions: [{ index: 'a' }] }]), /actions\[0\]\.index/);
});
