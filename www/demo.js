// The demo page: a bounded EventBuffer fed with synthetic connector payloads.
import { EventBuffer, parsePayload, toText } from 'tidepool';

const $ = (id) => document.getElementById(id);
const buffer = new EventBuffer({ maxSize: 25, onDrop: () => render() });
let next = 0;
let drained = 0;

function syntheticPayload(i) {
  const session_id = `ps_${100 + (i % 3)}`;
  if (i % 4 === 3) {
    return parsePayload({ type: 'summary', session_id, summary: `Session ${session_id} explored the dashboard.`, replaces: 3 });
  }
  return parsePayload({
    type: 'actions', session_id, forwarded_at: Date.now() / 1000,
    actions: [{ index: 0, type: 'click', description: `Clicked button #${i}`, canonical_url: 'https://app.example.com/dashboard' }],
  });
}

function render(text) {
  $('size').textContent = buffer.size;
  $('max-size').textContent = buffer.maxSize;
  $('dropped').textContent = buffer.droppedCount;
  $('drained').textContent = drained;
  if (text !== undefined) $('output').textContent = text;
}

function show(payloads, what) {
  drained += payloads.length;
  render(payloads.length ? payloads.map(toText).join('\n\n') : `Nothing to drain (${what}).`);
}

$('add').addEventListener('click', () => {
  for (let i = 0; i < 10; i++) buffer.add(syntheticPayload(next++));
  render(`Added 10 events; the buffer keeps the newest ${buffer.maxSize}.`);
});
$('drain-summaries').addEventListener('click', () => show(buffer.drainByType({ actions: false }), 'summaries'));
$('drain').addEventListener('click', () => show(buffer.drain(), 'all'));
render('Ready. Add some events.');
document.body.dataset.ready = 'true';
