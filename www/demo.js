// The demo page: transport (play, pause, step, seek, speed), loading recordings (the sample,
// a picked or dropped file), settings, and rendering. The replay itself is www/replay.js.
import { AckStage } from 'tidepool';
import { DEFAULT_SETTINGS, parseRecording, Replay, short } from './replay.js';

const $ = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';

let recording = null;
let replay = null;
let settings = { ...DEFAULT_SETTINGS };
let playing = false;
let lastFrame = 0;

// ---------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------

/** Makes `next` the current recording, replayed from the start; on failure nothing changes. */
function load(text, name) {
  let next;
  let fresh;
  try {
    next = parseRecording(text, name);
    fresh = new Replay(next, settings);
  } catch (error) {
    status(`Could not load ${name}: ${error.name}${error.code ? ` ${error.code}` : ''}: ${error.message}`, true);
    return false;
  }
  pause();
  recording = next;
  replay = fresh;
  const $seek = $('seek');
  $seek.max = String(recording.end - recording.start);
  $seek.disabled = recording.lines.length === 0;
  const what = recording.snapshot
    ? `snapshot with ${replay.activity.size} records (nothing to replay: the panels show its state)`
    : `${recording.lines.length} events over ${duration(recording.end - recording.start)}`;
  status(`Loaded ${recording.name}: ${what}.`);
  document.body.dataset.recording = recording.name;
  render();
  return true;
}

async function loadSample() {
  const response = await fetch('./sample.jsonl');
  if (!response.ok) throw new Error(`sample.jsonl: HTTP ${response.status}`);
  load(await response.text(), 'sample.jsonl');
}

async function loadFile(file) {
  if (!file) return;
  load(await file.text(), file.name);
}

// ---------------------------------------------------------------------------------------
// Transport
// ---------------------------------------------------------------------------------------

function play() {
  if (!replay || replay.done) return;
  playing = true;
  $('play').textContent = 'Pause';
  $('play').setAttribute('aria-pressed', 'true');
  document.body.dataset.state = 'playing';
  lastFrame = performance.now();
  requestAnimationFrame(frame);
}

function pause() {
  playing = false;
  $('play').textContent = 'Play';
  $('play').setAttribute('aria-pressed', 'false');
  if (replay) document.body.dataset.state = replay.done ? 'ended' : 'paused';
}

function frame(now) {
  if (!playing) return;
  const speed = Number($('speed').value);
  // At most a quarter second of wall time per frame, so a background tab does not jump.
  const elapsed = Math.min(now - lastFrame, 250);
  lastFrame = now;
  replay.runUntil(replay.clock + elapsed * speed);
  if (replay.done) pause();
  render();
  if (playing) requestAnimationFrame(frame);
  else if (replay.done) status(ended());
}

function step() {
  if (!replay || replay.done) return;
  pause();
  replay.stepTo(replay.position + 1);
  if (replay.done) {
    pause();
    status(ended());
  }
  render();
}

/** Rebuilds the state at `time` (seeking back) or runs forward to it. */
function seek(time) {
  if (!replay) return;
  if (time < replay.clock) replay = rebuilt(settings, (r) => r.runUntil(time)) ?? replay;
  else replay.runUntil(time);
  if (!playing) pause();
  render();
}

/** A new Replay with `options`, advanced by `advance`; undefined (and the error shown) when refused. */
function rebuilt(options, advance) {
  try {
    const next = new Replay(recording, options);
    advance(next);
    return next;
  } catch (error) {
    $('settings-error').textContent = `${error.name}: ${error.message}`;
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------

function showSettings() {
  const form = $('settings');
  for (const [name, value] of Object.entries(settings)) form.elements[name].value = String(value);
}

function changeSetting(event) {
  const field = event.target;
  if (!field.name || !replay) return;
  const value = field.type === 'number' ? (field.value === '' ? NaN : Number(field.value)) : field.value;
  const candidate = { ...settings, [field.name]: value };
  $('settings-error').textContent = '';
  const position = replay.position;
  const clock = replay.clock;
  const next = rebuilt(candidate, (r) => {
    r.stepTo(position);
    r.runUntil(clock);
  });
  if (next) {
    settings = candidate;
    replay = next;
  } else {
    showSettings();  // the refused value is not kept
  }
  render();
}

// ---------------------------------------------------------------------------------------
// Rendering: every number is read from the library (or from what its calls returned)
// ---------------------------------------------------------------------------------------

function render() {
  const r = replay;
  const set = (id, value) => {
    const text = String(value);
    const el = $(id);
    if (el.textContent !== text) el.textContent = text;
  };
  const elapsed = r.clock - recording.start;
  $('seek').value = String(elapsed);
  set('clock', `${duration(elapsed)} / ${duration(recording.end - recording.start)} · event ${r.position} of ${r.length}`);

  set('eb-size', r.buffer.size);
  set('eb-max', r.buffer.maxSize === 0 ? 'unlimited' : r.buffer.maxSize);
  set('eb-dropped', r.buffer.droppedCount);
  set('eb-drained', r.drained);
  set('eb-last-drain', r.lastDrain
    ? `Last drain at ${duration(r.lastDrain.t - recording.start)}: ${r.lastDrain.payloads.length} payloads, ${r.lastDrain.payloads.filter((p) => p.type === 'summary').length} of them summaries.`
    : 'No drain yet.');

  const log = r.log.stats();
  set('log-last-id', r.log.lastId);
  set('log-resident', log.resident);
  set('log-evicted-ttl', log.evictedByTtl);
  set('log-evicted-size', log.evictedBySize);
  for (const name of ['fast', 'slow']) {
    const reader = r[name];
    set(`${name}-cursor`, reader.cursor);
    set(`${name}-received`, reader.received);
    set(`${name}-missed`, reader.missed);
    set(`${name}-behind`, r.log.lastId - reader.cursor);
  }

  const stats = r.activity.stats();
  const unacked = r.activity.unacked();
  set('act-size', r.activity.size);
  set('act-max', r.settings.activityMaxItems);
  set('act-evictions', stats.evictions);
  set('act-rejections', stats.rejections);
  set('act-dedup-hits', stats.dedupHits);
  set('act-skipped', r.duplicatesSkipped);
  set('act-ignored', stats.ignoredAcks);
  set('act-unacked', unacked.length);
  set('act-reconcile', r.activity.reconcile().length);

  list('dedup', r.dedup.slice(-30).reverse(), (d) =>
    [d.status === 'duplicate' ? 'skipped' : 'sent', `${at(d.t)} ${d.direction === 'in' ? 'incoming' : 'retry'} ${short(d.message_id)}: ${d.status.replace('_', ' ')}, same token as ${short(d.original)}`]);
  list('unacked', unacked.slice(-40).reverse(), (rec) =>
    [rec.direction === 'out' ? 'out' : 'in', `${short(rec.message_id)} ${STAGE_NAMES[rec.ack_stage]}, recorded at ${at(rec.ts_ms)}${rec.envelope.retry_count ? `, retry ${rec.envelope.retry_count}` : ''}`]);
  list('feed', r.feed.slice(-40).reverse(), (f) => [f.type, `${at(f.t)} ${f.text}`]);

  drawChart(r);
  drawTimeline(r);
}

const STAGE_NAMES = Object.fromEntries(Object.entries(AckStage).map(([name, value]) => [value, name.toLowerCase().replace('_', ' ')]));
const STAGE_MARKS = { 0: 'S', 1: 'R', 2: 'D', 3: 'F', 4: 'X', 5: '!', 6: 'T' };

const at = (t) => duration(t - recording.start);

function duration(ms) {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

function list(id, items, describe) {
  const el = $(id);
  const html = items.map((item) => {
    const [tag, text] = describe(item);
    return `<li><span class="tag">${escape(tag)}</span>${escape(text)}</li>`;
  }).join('') || '<li class="empty">none</li>';
  if (el.dataset.html !== html) {
    el.innerHTML = html;
    el.dataset.html = html;
  }
}

const escape = (text) => String(text).replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

function svgEl(name, attributes, text) {
  const el = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) el.setAttribute(key, String(value));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Replaces the drawing in `svg` (keeping its <title>), sized to its on-screen width. */
function canvas(svg, height) {
  const width = Math.max(280, Math.round(svg.getBoundingClientRect().width) || 800);
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.style.height = `${height}px`;
  while (svg.lastChild && svg.lastChild.nodeName !== 'title') svg.lastChild.remove();
  return width;
}

const SERIES = [
  { key: 'buffer', label: 'EventBuffer', css: 's-buffer', bound: (r) => r.buffer.maxSize },
  { key: 'log', label: 'EventLog', css: 's-log', bound: (r) => r.log.maxEntries },
  { key: 'activity', label: 'ActivityBuffer', css: 's-activity', bound: (r) => r.settings.activityMaxItems },
];

function drawChart(r) {
  const svg = $('chart');
  // On narrow screens the legend goes under the axis, not beside the plot.
  const narrow = svg.getBoundingClientRect().width < 500;
  const height = narrow ? 320 : 260;
  const width = canvas(svg, height);
  const left = 48;
  const right = narrow ? 12 : 190;
  const top = 12;
  const bottom = narrow ? 100 : 40;
  const span = Math.max(1, recording.end - recording.start);
  const maxY = Math.max(10, ...SERIES.map((s) => s.bound(r)), ...r.series.map((p) => Math.max(p.buffer, p.log, p.activity)));
  const yMax = niceCeil(maxY);
  const x = (t) => left + ((t - recording.start) / span) * (width - left - right);
  const y = (v) => top + (1 - v / yMax) * (height - top - bottom);
  for (let i = 0; i <= 4; i++) {
    const v = (yMax / 4) * i;
    svg.append(svgEl('line', { class: 'grid', x1: left, x2: width - right, y1: y(v), y2: y(v) }));
    svg.append(svgEl('text', { x: left - 6, y: y(v) + 4, 'text-anchor': 'end' }, String(v)));
  }
  const minutes = span / 60_000;
  const stepMin = minutes > 20 ? 5 : minutes > 6 ? 2 : 1;
  for (let m = 0; m <= minutes + 1e-9; m += stepMin) {
    const px = x(recording.start + m * 60_000);
    svg.append(svgEl('line', { class: 'axis', x1: px, x2: px, y1: height - bottom, y2: height - bottom + 4 }));
    svg.append(svgEl('text', { x: px, y: height - bottom + 16, 'text-anchor': 'middle' }, `${m}`));
  }
  svg.append(svgEl('line', { class: 'axis', x1: left, x2: width - right, y1: height - bottom, y2: height - bottom }));
  svg.append(svgEl('line', { class: 'axis', x1: left, x2: left, y1: top, y2: height - bottom }));
  svg.append(svgEl('text', { x: (left + width - right) / 2, y: height - bottom + 32, 'text-anchor': 'middle' }, 'recorded time (minutes)'));
  svg.append(svgEl('text', { x: 12, y: (top + height - bottom) / 2, transform: `rotate(-90 12 ${(top + height - bottom) / 2})`, 'text-anchor': 'middle' }, 'items held'));
  const points = r.series;
  const stride = Math.max(1, Math.floor(points.length / 800));
  SERIES.forEach((s, i) => {
    let d = '';
    for (let k = 0; k < points.length; k += stride) d += `${k ? 'L' : 'M'}${x(points[k].t).toFixed(1)} ${y(points[k][s.key]).toFixed(1)}`;
    const lastPoint = points[points.length - 1];
    if (lastPoint) d += `L${x(lastPoint.t).toFixed(1)} ${y(lastPoint[s.key]).toFixed(1)}`;
    svg.append(svgEl('path', { class: `series ${s.css}`, d }));
    // The legend names each line next to a sample of its dash pattern, so colour is not needed.
    const bound = s.bound(r);
    const label = `${s.label} (max ${bound === 0 ? '∞' : bound})`;
    const ly = narrow ? height - bottom + 56 + i * 18 : top + 16 + i * 20;
    const lx = narrow ? left : width - right + 8;
    svg.append(svgEl('line', { class: `series ${s.css}`, x1: lx, x2: lx + 22, y1: ly - 4, y2: ly - 4 }));
    svg.append(svgEl('text', { x: lx + 28, y: ly }, label));
  });
}

function niceCeil(v) {
  for (const step of [10, 20, 25, 50, 100, 200, 250, 500, 1000]) if (v <= step * 4) return Math.ceil(v / step) * step;
  return Math.ceil(v / 1000) * 1000;
}

function drawTimeline(r) {
  const svg = $('timeline');
  const rows = [...r.timeline.entries()].filter(([, e]) => e.direction === 'out').slice(-12);
  const rowH = 22;
  const top = 8;
  const bottom = 34;
  const height = top + Math.max(rows.length, 1) * rowH + bottom;
  const width = canvas(svg, height);
  const left = width < 500 ? 120 : 190;
  const right = 16;
  const spanMs = 20_000;
  const x = (ms) => left + Math.min(1, ms / spanMs) * (width - left - right);
  for (let s = 0; s <= 20; s += 5) {
    svg.append(svgEl('line', { class: 'grid', x1: x(s * 1000), x2: x(s * 1000), y1: top, y2: height - bottom }));
    svg.append(svgEl('text', { x: x(s * 1000), y: height - bottom + 14, 'text-anchor': 'middle' }, `${s}${s === 20 ? '+' : ''}`));
  }
  svg.append(svgEl('text', { x: (left + width - right) / 2, y: height - 6, 'text-anchor': 'middle' }, 'seconds after sending'));
  if (rows.length === 0) svg.append(svgEl('text', { x: left, y: top + 14 }, 'no outgoing messages yet'));
  rows.forEach(([id, entry], i) => {
    const cy = top + i * rowH + rowH / 2;
    const record = r.activity.get(id);
    const final = record ? STAGE_NAMES[record.ack_stage] : 'evicted';
    const retry = record?.envelope.retry_count ? ` r${record.envelope.retry_count}` : '';
    svg.append(svgEl('text', { x: 4, y: cy + 4 }, `${short(id)}${retry} ${width < 500 ? '' : final}`.trim()));
    const lastT = entry.stages[entry.stages.length - 1].t - entry.t;
    svg.append(svgEl('line', { class: 'axis', x1: x(0), x2: x(lastT), y1: cy, y2: cy }));
    for (const { t, stage } of entry.stages) {
      const g = svgEl('g', {});
      g.append(svgEl('title', {}, `${STAGE_NAMES[stage]} at +${((t - entry.t) / 1000).toFixed(1)} s`));
      g.append(svgEl('circle', { cx: x(t - entry.t), cy, r: 8, fill: stage >= 4 ? '#fde2e1' : stage === 3 ? '#dcefd2' : '#e3eef6', stroke: '#5b6b76' }));
      g.append(svgEl('text', { x: x(t - entry.t), y: cy + 4, 'text-anchor': 'middle' }, STAGE_MARKS[stage] ?? String(stage)));
      svg.append(g);
    }
  });
}

function ended() {
  const refused = replay.refused ? `; ${replay.refused} event${replay.refused === 1 ? '' : 's'} refused by the library (see Drops and evictions)` : '';
  return `Replay of ${recording.name} finished${refused}.`;
}

function status(text, isError = false) {
  $('status').textContent = text;
  $('status').classList.toggle('error', isError);
}

// ---------------------------------------------------------------------------------------
// Wiring
// ---------------------------------------------------------------------------------------

$('play').addEventListener('click', () => (playing ? pause() : play()));
$('step').addEventListener('click', step);
$('restart').addEventListener('click', () => seek(recording?.start ?? 0));
$('seek').addEventListener('input', (event) => seek(recording.start + Number(event.target.value)));
$('load-sample').addEventListener('click', () => loadSample());
$('file').addEventListener('change', (event) => loadFile(event.target.files[0]));
$('settings').addEventListener('change', changeSetting);
$('settings').addEventListener('submit', (event) => event.preventDefault());

document.addEventListener('keydown', (event) => {
  const target = event.target;
  if (target.closest?.('input, select, textarea, button') && event.key !== 'Escape') return;
  if (event.key === ' ') {
    event.preventDefault();
    if (playing) pause(); else play();
  } else if (event.key === 'ArrowRight') {
    event.preventDefault();
    step();
  } else if (event.key === 'Home') {
    event.preventDefault();
    seek(recording.start);
  }
});

let dragDepth = 0;
document.addEventListener('dragenter', (event) => {
  event.preventDefault();
  dragDepth++;
  $('drop-hint').hidden = false;
});
document.addEventListener('dragleave', () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (dragDepth === 0) $('drop-hint').hidden = true;
});
document.addEventListener('dragover', (event) => event.preventDefault());
document.addEventListener('drop', (event) => {
  event.preventDefault();
  dragDepth = 0;
  $('drop-hint').hidden = true;
  loadFile(event.dataTransfer?.files?.[0]);
});
window.addEventListener('resize', () => replay && render());

showSettings();
try {
  await loadSample();
} catch (error) {
  status(`Could not load the sample: ${error.message}`, true);
}
document.body.dataset.ready = 'true';
