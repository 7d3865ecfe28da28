// 试运行 / what-if: the whole draft zone set on the camera's recent recording (or an uploaded clip), run by the
// camera's worker beside the saved zones; the job is polled and its events drawn on one timeline, two lanes per
// zone and class (saved above, draft below), with the episodes each zone would open.

import { h } from './dom.js';
import { t } from './i18n.js';
import { s } from './svg.js';
import * as zoneapi from './zoneapi.js';
import { fieldOf, reason } from './zonemodel.js';

const MINUTES = [1, 5, 10, 30, 60];
const POLL_MS = 1000;
const RUNS = ['saved', 'draft'];

/** Episodes from the events: one per run, zone, class, track and start, from its start to its end (or last word). */
export function episodes(timeline) {
  const found = new Map();
  for (const e of timeline) {
    const key = [e.run, e.zone_id, e.class, e.track_id, e.start_s].join('|');
    const known = found.get(key) || { run: e.run, zone: e.zone_id, cls: e.class, from: e.start_s, to: e.start_s,
      started: false };
    known.to = Math.max(known.to, e.end_s ?? e.ts_s ?? e.start_s);
    known.started = known.started || e.state === 'start';
    found.set(key, known);
  }
  return [...found.values()];
}

/** A camera's recording runs on wall-clock seconds; a clip on seconds from its start. */
const clock = (seconds, span) => (seconds > 1e9
  ? new Date(seconds * 1000).toLocaleTimeString(undefined, { hour12: false })
  : `${seconds.toFixed(span < 20 ? 1 : 0)} s`);

function timelineChart(list, names, job) {
  const rows = [...new Set(list.map((e) => `${e.zone}|${e.cls}`))].sort();
  if (!rows.length) return h('p', { class: 'notice', id: 'whatif-empty' }, t('whatif.no_events'));
  // The run's first and last frame when the API gives them, else the events' own span.
  const from = Math.min(job.first_ts_s ?? Infinity, ...list.map((e) => e.from));
  const to = Math.max(from + 1, job.last_ts_s ?? -Infinity, ...list.map((e) => e.to));
  const span = to - from;
  const [left, width, lane, gap] = [260, 1000, 16, 14];
  const x = (v) => left + ((v - from) / (to - from)) * (width - left - 10);
  const height = 30 + rows.length * (2 * lane + gap);
  const parts = [];
  for (let i = 0; i <= 5; i += 1) {
    const v = from + ((to - from) * i) / 5;
    parts.push(s('line', { class: 'tick', x1: x(v), x2: x(v), y1: 18, y2: height }),
      s('text', { class: 'tick-label', x: x(v), y: 12, 'text-anchor': ['start', 'middle', 'middle', 'middle', 'middle', 'end'][i] }, clock(v, span)));
  }
  rows.forEach((row, i) => {
    const [zone, cls] = row.split('|');
    const top = 24 + i * (2 * lane + gap);
    const text = `${names.zone(zone)} · ${names.cls(cls)}`;
    parts.push(s('text', { class: 'row-label', x: 4, y: top + lane + 4 },
      text.length > 34 ? `${text.slice(0, 33)}…` : text, s('title', {}, text)));
    RUNS.forEach((run, r) => {
      const y = top + r * lane;
      parts.push(s('rect', { class: `lane lane-${run}`, x: left, y, width: width - left - 10, height: lane - 3 }));
      for (const e of list.filter((ep) => ep.run === run && `${ep.zone}|${ep.cls}` === row)) {
        parts.push(s('rect', { class: `episode episode-${run}`, x: x(e.from), y, height: lane - 3,
          width: Math.max(3, x(e.to) - x(e.from)), dataset: { run, zone, cls } },
        s('title', {}, `${t(`whatif.run.${run}`)} ${names.zone(zone)} ${clock(e.from, span)}–${clock(e.to, span)}`)));
      }
    });
  });
  return h('div', { class: 'whatif-chart' },
    h('div', { class: 'legend-row' }, RUNS.map((run) => [h('span', { class: `swatch swatch-${run}` }),
      t(`whatif.run.${run}`)])),
    s('svg', { id: 'whatif-timeline', class: 'whatif-timeline', viewBox: `0 0 ${width} ${height}` }, parts));
}

function counts(list, names) {
  const zones = [...new Set(list.map((e) => e.zone))].sort();
  const count = (zone, run) => list.filter((e) => e.zone === zone && e.run === run && e.started).length;
  return h('table', { class: 'cases whatif-counts', id: 'whatif-counts' },
    h('thead', {}, h('tr', {}, h('th', {}, t('whatif.zone')), RUNS.map((run) => h('th', {}, t(`whatif.run.${run}`))))),
    h('tbody', {}, zones.map((zone) => h('tr', { dataset: { zone } }, h('td', {}, names.zone(zone)),
      RUNS.map((run) => h('td', { dataset: { run } }, String(count(zone, run))))))));
}

/** draft() → the zone set as edited (canonical zones); names: {zone(id), cls(id)} for the labels. */
export function whatifPanel({ cameraId, draft, names }) {
  const minutes = h('select', { id: 'whatif-minutes', name: 'minutes' },
    MINUTES.map((m) => h('option', { value: String(m), selected: m === 10 }, t('whatif.minutes', { n: m }))));
  const clip = h('input', { type: 'file', id: 'whatif-clip', name: 'clip', accept: 'video/*' });
  const forget = h('button', { type: 'button', class: 'link', id: 'whatif-clear', hidden: true, onclick: () => {
    clip.value = '';
    forget.hidden = true;
  } }, t('whatif.clear_clip'));
  clip.addEventListener('change', () => { forget.hidden = !clip.files.length; });
  const run = h('button', { type: 'button', id: 'whatif-run' }, t('whatif.run'));
  const status = h('p', { class: 'whatif-status', id: 'whatif-status', role: 'status' });
  const result = h('div', { class: 'whatif-result', id: 'whatif-result' });
  let timer = null;
  let stopped = false;
  let started = 0;

  const say = (state, text) => {
    status.dataset.state = state;
    status.className = state === 'failed' ? 'whatif-status error' : 'whatif-status';
    status.textContent = text;
  };

  function show(job) {
    const list = episodes(job.timeline || []);
    result.replaceChildren(
      h('p', { class: 'notice' }, t('whatif.summary', { frames: job.frames ?? 0, seconds: job.seconds ?? '?' })),
      counts(list, names), timelineChart(list, names, job));
  }

  async function poll(jobId) {
    if (stopped) return;
    let job;
    try {
      job = await zoneapi.whatifJob(cameraId, jobId);
    } catch (error) {
      say('failed', t('whatif.error', { msg: error.message }));
      run.disabled = false;
      return;
    }
    if (stopped) return;
    if (job.status === 'queued') {
      say('queued', t('whatif.queued', { s: Math.round((Date.now() - started) / 1000) }));
      timer = setTimeout(() => poll(jobId), POLL_MS);
      return;
    }
    run.disabled = false;
    if (job.status === 'done') {
      say('done', t('whatif.done'));
      show(job);
    } else {
      say('failed', t('whatif.failed', { msg: job.error || job.status }));
    }
  }

  run.addEventListener('click', async () => {
    clearTimeout(timer);
    result.replaceChildren();
    const zones = draft();
    const file = clip.files && clip.files[0];
    run.disabled = true;
    say('sending', t('whatif.sending'));
    try {
      const job = file ? await zoneapi.whatifUpload(cameraId, zones, file)
        : await zoneapi.whatif(cameraId, zones, Number(minutes.value));
      started = Date.now();
      status.dataset.job = job.job_id;
      await poll(job.job_id);
    } catch (error) {
      run.disabled = false;
      const fields = error.fields.map((f) => {
        const { field, rest } = fieldOf(f.loc);
        const zone = field === 'zones' && rest ? zones[Number(rest.split('.')[0])] : null;
        return zone ? `${zone.id}: ${rest.split('.').slice(1).join('.')}: ${reason(f.msg)}` : reason(f.msg);
      });
      say('failed', t('whatif.error', { msg: fields.length ? fields.join('；') : error.message }));
    }
  });

  const element = h('section', { class: 'panel whatif', id: 'whatif' },
    h('h2', {}, t('whatif.title')),
    h('p', { class: 'notice' }, t('whatif.explain')),
    h('div', { class: 'filter-row' },
      h('label', { class: 'field' }, h('span', {}, t('whatif.recording')), minutes),
      h('label', { class: 'field' }, h('span', {}, t('whatif.upload')), clip), forget,
      run),
    status, result);
  return {
    element,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
