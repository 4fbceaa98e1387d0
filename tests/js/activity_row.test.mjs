// The rows of numbers the ActivityBuffer core answers with are read in js/activity.js by the
// positions in `ROW` (js/activity_row.js): they must be the core's layout
// (`ROW` in src/wasm/activity.rs), and every position must land in its record field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ActivityBuffer } from '../../pkg/entry/node.js';
import { activityRowLayout } from '../../pkg/wasm/tidepool.js';
import { ROW } from '../../pkg/activity_row.js';

test('ROW in js/activity_row.js names the positions of the core row layout', () => {
  const layout = activityRowLayout();
  assert.ok(layout.length > 0);
  const { length, ...positions } = ROW;
  assert.equal(length, layout.length, 'ROW.length');
  assert.deepEqual(
    Object.entries(positions).sort(([, a], [, b]) => a - b).map(([name]) => name),
    layout,
  );
  assert.deepEqual(Object.values(positions).sort((a, b) => a - b), layout.map((_, i) => i), 'positions 0..n-1, each once');
});

test('every row position reaches its record field', () => {
  let now = 1_234_567;
  const buffer = new ActivityBuffer({ now: () => now });
  buffer.recordIncoming({ message_id: 'filler' }); // slot 0, so the next record's slot differs from 0
  now += 1;
  buffer.recordOutgoing({ message_id: 'm', state: 2 });
  buffer.ack({ ack_for_message_id: 'm', ack_stage: 5, error_code: 13, note: 'late' });
  const record = buffer.updateState('m', 6);
  assert.equal(record.message_id, 'm', 'the slot found this record\'s envelope');
  assert.equal(record.direction, 'out');
  assert.equal(record.ts_ms, 1_234_568);
  assert.equal(record.ack_stage, 5);
  assert.equal(record.error_code, 13);
  assert.equal(record.state, 6);
  assert.equal(record.ack_note, 'late');
  assert.equal(buffer.get('filler').direction, 'in');
  assert.equal(buffer.get('filler').ack_note, '');
});
