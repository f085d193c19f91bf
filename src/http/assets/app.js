// vigil dashboard: fleet, machine and pipeline views over vigil's read-only JSON API.
// No build step, no network beyond vigil itself: plain JS and the vendored uPlot.
'use strict';

const POLL_MS = 5000;
const STALE_MS = 15 * 60 * 1000;
const ZONES = ['good', 'watch', 'unsatisfactory', 'critical'];
// charts: target id -> {u, names, marks}; seriesKey: the machine, range and newest window drawn.
const state = { view: null, machine: null, range: 86400000, charts: {}, seriesKey: null, lastStatus: null, rate: null };

const $ = (sel) => document.querySelector(sel);
const el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v; else if (k === 'text') e.textContent = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
};
const fmt = (v, digits = 2) => (v === null || v === undefined || Number.isNaN(v)) ? '–' : Number(v).toFixed(digits);
const iso = (ms) => new Date(ms).toISOString().replace('.000Z', 'Z');
function ago(ms) {
  if (ms < 0) ms = 0;
  const s = Math.round(ms / 1000);
  if (s < 90) return s + ' s ago';
  if (s < 5400) return Math.round(s / 60) + ' min ago';
  if (s < 172800) return Math.round(s / 3600) + ' h ago';
  return Math.round(s / 86400) + ' days ago';
}
function bytes(b) {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (b >= 1024 && i < u.length - 1) { b /= 1024; i++; }
  return b.toFixed(i ? 1 : 0) + ' ' + u[i];
}

// Every request goes through here: a failure marks the connection down (the banner says
// so) and the next poll tries again, so the page survives a daemon restart.
async function api(path) {
  try {
    const r = await fetch(path, { credentials: 'same-origin', cache: 'no-store' });
    const body = await r.json();
    setConnected(true);
    if (!r.ok) throw new ApiError(body.error || ('HTTP ' + r.status));
    return body;
  } catch (e) {
    if (e instanceof ApiError) throw e;
    setConnected(false);
    throw e;
  }
}
class ApiError extends Error {}

function setConnected(ok) {
  const c = $('#conn');
  c.className = 'conn ' + (ok ? 'ok' : 'down');
  c.textContent = ok ? 'live' : 'reconnecting…';
  const b = $('#banner');
  b.hidden = ok;
  if (!ok) b.textContent = 'vigil is not answering (restarting?). The page retries every ' + POLL_MS / 1000 + ' s.';
}

// ---------- fleet ----------

// The column of a machine's sensor value (kind 'value') as the configuration names it.
function valueColumn(m, sensor) {
  return Object.keys(m.columns || {}).find((k) => m.columns[k].sensor === sensor && m.columns[k].kind === 'value');
}

// The label horizon (processing.label_horizon, from the API's horizon_hours) in words: '7 d', '30 h'.
function horizonText(m) {
  const h = m.horizon_hours ?? 168;
  return h >= 24 && h % 24 === 0 ? h / 24 + ' d' : (Number.isInteger(h) ? h : fmt(h)) + ' h';
}

// Remaining useful life (hours, from the RUL model of model.rul_cap); null without one.
function rulText(m) {
  return m.rul_hours === undefined || m.rul_hours === null ? null : fmt(m.rul_hours, 0) + ' h';
}

function tile(m, serverNow) {
  const vibCol = valueColumn(m, 'vibration'), tempCol = valueColumn(m, 'temperature');
  const vib = m.latest[vibCol];
  const temp = m.latest[tempCol];
  const age = serverNow - m.newest_window_ms;
  const stale = age > STALE_MS;
  const zone = m.iso10816_zone || 'unknown';
  const t = el('div', { class: `tile zone-${zone}${stale ? ' stale' : ''}`, 'data-machine-id': m.machine_id,
                        'data-zone': zone, 'data-vibration': vib ?? '' });
  t.append(el('h3', {}, el('span', { text: m.machine_id }), el('span', { class: 'zone', text: zone })));
  t.append(el('div', { class: 'big', text: fmt(vib) + ' mm/s' }));
  const dl = el('dl');
  const row = (k, v, cls) => { dl.append(el('dt', { text: k }), el('dd', cls ? { class: cls, text: v } : { text: v })); };
  if (m.failure_probability_7d !== undefined && m.failure_probability_7d !== null) {
    row('failure risk ' + horizonText(m), fmt(100 * m.failure_probability_7d, 1) + ' %', 'risk');
  } else if (m.anomaly_score !== undefined && m.anomaly_score !== null) {
    row('anomaly score', fmt(m.anomaly_score, 2), 'risk');
  } else {
    row('failure risk ' + horizonText(m), 'no model yet', 'risk');
  }
  if (rulText(m)) row('remaining life', rulText(m), 'rul');
  row('temperature', fmt(temp, 1) + ' °C');
  for (const [k, v] of Object.entries(m.latest)) {
    if (k !== vibCol && k !== tempCol && k !== 'label_failure_7d') row(k, fmt(v));
  }
  row('last reading', ago(age), 'age' + (stale ? ' stale-age' : ''));
  row('last failure', m.last_failure ? m.last_failure.slice(0, 16).replace('T', ' ') : 'none');
  t.append(dl);
  t.addEventListener('click', () => { location.hash = '#/machine/' + encodeURIComponent(m.machine_id); });
  return t;
}

async function renderFleet() {
  const data = await api('/api/machines');
  const tiles = $('#tiles');
  tiles.replaceChildren(...data.machines.map((m) => tile(m, data.server_time_ms)));
  $('#fleet-empty').hidden = data.machines.length > 0;
}

// ---------- machine ----------

// Vertical markers over a chart at the times of marks.events (failures red, alerts orange);
// DOM elements so that people (and tests) can find them. marks is updated with the data.
function markerPlugin(marks) {
  return {
    hooks: {
      draw: [(u) => {
        for (const old of u.root.querySelectorAll('.failure-marker, .alert-marker')) old.remove();
        const over = u.over;
        for (const ev of marks.events) {
          const x = u.valToPos(ev.t / 1000, 'x');
          if (x < 0 || x > over.clientWidth) continue;
          const m = el('div', { class: ev.kind === 'failure' ? 'failure-marker' : 'alert-marker',
                                'data-t': String(ev.t), title: ev.label });
          m.style.left = (over.offsetLeft + x - 1) + 'px';
          m.style.top = over.offsetTop + 'px';
          m.style.height = over.clientHeight + 'px';
          u.root.querySelector('.u-wrap').append(m);
        }
      }],
    },
  };
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

// Draws or updates the chart in target. With the same series as before it only gets the new
// data (no flicker, and a zoomed-in chart stays zoomed); otherwise it is built anew.
function chart(target, title, t, series, events, unit) {
  const names = Object.keys(series);
  const old = state.charts[target.id];
  if (!names.length || !t.length) {
    if (old) old.u.destroy(), delete state.charts[target.id];
    target.replaceChildren();
    return;
  }
  const data = [t.map((x) => x / 1000)].concat(names.map((n) => series[n]));
  if (old && old.names === names.join()) {
    old.marks.events = events;
    const x = old.u.data[0], sx = old.u.scales.x;
    const zoomed = x.length && (sx.min > x[0] || sx.max < x[x.length - 1]);
    old.u.setData(data, !zoomed);
    return;
  }
  if (old) old.u.destroy();
  target.replaceChildren();
  const marks = { events };
  const opts = {
    // The target is display:none while empty: size by the view.
    title, width: Math.max(300, $('#machine-view').clientWidth - 24), height: 240,
    scales: { x: { time: true } },
    series: [{}].concat(names.map((n, i) => ({ label: n, stroke: COLORS[i % COLORS.length], width: i ? 1 : 2,
                                                  spanGaps: false, value: (u, v) => fmt(v) + (unit ? ' ' + unit : '') }))),
    // A fixed y-axis width, so that the plots of all charts line up whatever their tick labels.
    axes: [{}, { label: unit, size: 60, labelSize: 20 }],
    plugins: [markerPlugin(marks)],
  };
  state.charts[target.id] = { u: new uPlot(opts, data, target), names: names.join(), marks };
}

async function renderMachine(id) {
  $('#machine-title').textContent = id;
  for (const b of document.querySelectorAll('.ranges button')) {
    b.classList.toggle('active', Number(b.dataset.range) === state.range);
  }
  const m = await api('/api/machines/' + encodeURIComponent(id));
  $('#machine-summary').textContent =
      `ISO 10816 zone: ${m.iso10816_zone || '–'} · vibration ${fmt(m.latest[valueColumn(m, 'vibration')])} mm/s · ` +
      `temperature ${fmt(m.latest[valueColumn(m, 'temperature')], 1)} °C · last failure ${m.last_failure || 'none'}` +
      (m.failure_probability_7d !== undefined && m.failure_probability_7d !== null
        ? ` · failure risk within ${horizonText(m)} ${fmt(100 * m.failure_probability_7d, 1)} %` : '') +
      (rulText(m) ? ` · remaining useful life ${rulText(m)}` : '');
  // The series change only with a new window (or another range or machine): poll cheaply until then.
  const key = [id, state.range, m.newest_window_ms].join();
  if (key === state.seriesKey) return;
  // The range ends at the machine's newest window, so history (imports, backfills) shows too.
  const to = m.newest_window_ms + 1000;
  const from = to - state.range;
  const s = await api(`/api/machines/${encodeURIComponent(id)}/series?from=${from}&to=${to}`);
  state.seriesKey = key;
  $('#series-info').textContent = `${iso(from)} – ${iso(to)}, ${s.t.length} points of ${s.step_ms / 1000} s`;
  const events = s.failures.map((f) => ({ t: f.t, kind: 'failure', label: 'failure ' + f.code + ' at ' + iso(f.t) }))
      .concat(s.alerts.map((a) => ({ t: a.ts_ms, kind: 'alert', label: a.level + ': ' + a.message })));
  const pick = (sensor) => Object.fromEntries(Object.entries(s.series).filter(([k]) => m.columns[k]?.sensor === sensor));
  chart($('#chart-vibration'), 'Vibration (window means and rolling features)', s.t, pick('vibration'), events, 'mm/s');
  chart($('#chart-temperature'), 'Temperature (window means and rolling features)', s.t, pick('temperature'), events, '°C');
  chart($('#chart-prediction'), 'Failure probability within ' + horizonText(m), s.predictions.t,
        { failure_probability_7d: s.predictions.p }, events, '');
  $('#events').replaceChildren(...(events.length ? events.map((e) => el('li', { class: 'event-' + e.kind, text: e.label }))
                                                  : [el('li', { text: 'none' })]));
}

// ---------- pipeline ----------

async function renderPipeline() {
  const st = await api('/api/status');
  const prev = state.lastStatus;
  if (prev && st.server_time_ms > prev.server_time_ms && st.received >= prev.received) {
    state.rate = (st.received - prev.received) * 1000 / (st.server_time_ms - prev.server_time_ms);
  }
  state.lastStatus = st;
  const p = st.processor;
  const card = (label, value, id) => el('div', { class: 'card', id }, el('div', { class: 'label', text: label }),
                                        el('div', { class: 'value', text: value }));
  $('#pipeline-cards').replaceChildren(
      card('messages per second', state.rate === null ? 'measuring…' : fmt(state.rate, 1), 'card-rate'),
      card('broker', st.broker_connected ? 'connected' : 'disconnected', 'card-broker'),
      card('ready', st.ready ? 'yes' : 'no: ' + st.reason, 'card-ready'),
      card('accepted / quarantined', st.accepted + ' / ' + st.quarantined, 'card-counts'),
      card('processor batches', `${p.batches} in ${p.runs} runs` + (p.failed_runs ? `, ${p.failed_runs} failed` : ''), 'card-batches'),
      card('last run', fmt(p.last_run_seconds, 3) + ' s' + (p.runs ? ', mean ' + fmt(p.run_seconds_sum / p.runs, 3) + ' s' : ''), 'card-duration'),
      card('last successful run', p.last_success_ms ? ago(st.server_time_ms - p.last_success_ms) : 'none yet', 'card-last'),
      card('lake raw / archive / quarantine', `${bytes(st.lake_area_bytes.raw)} / ${bytes(st.lake_area_bytes.archive)} / ` +
           bytes(st.lake_area_bytes.quarantine), 'card-lake'),
      card('disk free', bytes(st.disk_free_bytes) + (st.disk_low ? ' (LOW: ingest paused)' : ''), 'card-disk'));
  $('#quarantine tbody').replaceChildren(...Object.entries(st.quarantined_by_reason)
      .map(([r, n]) => el('tr', { 'data-reason': r }, el('td', { text: r }), el('td', { text: String(n) }))));
  const samples = await api('/api/quarantine/samples');
  $('#samples').replaceChildren(...(samples.samples.length ? samples.samples.map((line) => {
    let text = line;
    try {
      const q = JSON.parse(line);
      text = `${q.reason}: ${q.detail} (topic ${q.topic ?? '?'})`;
    } catch (e) { /* a raw line is shown as it is */ }
    return el('li', { text });
  }) : [el('li', { text: 'none' })]));
}

// ---------- routing and polling ----------

function route() {
  const h = location.hash || '#/fleet';
  const mm = h.match(/^#\/machine\/(.+)$/);
  state.view = mm ? 'machine' : (h === '#/pipeline' ? 'pipeline' : 'fleet');
  state.machine = mm ? decodeURIComponent(mm[1]) : null;
  $('#fleet-view').hidden = state.view !== 'fleet';
  $('#machine-view').hidden = state.view !== 'machine';
  $('#pipeline-view').hidden = state.view !== 'pipeline';
  $('#nav-fleet').classList.toggle('active', state.view !== 'pipeline');
  $('#nav-pipeline').classList.toggle('active', state.view === 'pipeline');
  document.title = 'vigil: ' + (state.machine || state.view);
  refresh();
}

let inFlight = false;
async function refresh() {
  if (inFlight) return;
  inFlight = true;
  try {
    if (state.view === 'fleet') await renderFleet();
    else if (state.view === 'machine') await renderMachine(state.machine);
    else await renderPipeline();
  } catch (e) {
    if (e instanceof ApiError) $('#banner').hidden = false, $('#banner').textContent = e.message;
  } finally {
    inFlight = false;
  }
}

for (const b of document.querySelectorAll('.ranges button')) {
  b.addEventListener('click', () => { state.range = Number(b.dataset.range); refresh(); });
}
window.addEventListener('hashchange', route);
setInterval(refresh, POLL_MS);
route();
