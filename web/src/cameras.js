// 摄像头: every camera's state and why, its latest picture and counters, refreshed every few seconds.

import { get } from './api.js';
import { coverageList } from './coverage.js';
import { clear, h, localUrl, message } from './dom.js';
import { fmtAge, label, t } from './i18n.js';

const REFRESH_S = 3;

function placeholder() {
  return h('div', { class: 'snapshot placeholder' }, t('cameras.no_snapshot'));
}

/** The latest picture; the one on screen stays until the next has loaded, so the wall never blinks. */
function snapshot(camera, previous) {
  const src = localUrl(camera.snapshot_url);
  if (!src) return placeholder();
  // The worker overwrites the same file: a fresh query makes the browser fetch the new picture.
  const bust = Math.floor(Number(camera.reported_at || Date.now() / 1000));
  const url = `${src}?t=${bust}`;
  if (previous && previous.tagName === 'IMG') {
    if (previous.getAttribute('src') !== url) {
      const next = new Image();
      next.addEventListener('load', () => previous.setAttribute('src', url), { once: true });
      next.src = url;
    }
    return previous;
  }
  const img = h('img', { class: 'snapshot', src: url, alt: camera.name || camera.camera_id });
  img.addEventListener('error', () => img.replaceWith(placeholder()), { once: true });
  return img;
}

function counter(name, value) {
  return [h('dt', {}, t(name)), h('dd', {}, value === undefined || value === null ? t('case.none') : String(value))];
}

function card(camera, previous) {
  const state = camera.state || 'unknown';
  const lastFrame = camera.last_frame_at ? fmtAge(new Date(camera.last_frame_at * 1000).toISOString()) : null;
  return h('article', { class: `camera camera-${state}`, dataset: { cameraId: camera.camera_id } },
    h('header', {},
      h('span', { class: 'camera-name' }, camera.name || camera.camera_id),
      h('span', { class: `camera-state state-${state}` }, label('camera.state', state))),
    snapshot(camera, previous),
    camera.last_error ? h('p', { class: 'camera-error' }, camera.last_error) : null,
    h('dl', { class: 'counters' },
      counter('cameras.decoded', camera.frames_decoded),
      counter('cameras.analysed', camera.frames_analysed),
      counter('cameras.dropped', camera.frames_dropped),
      counter('cameras.reconnects', camera.reconnects),
      counter('cameras.corrupt', camera.corrupt_packets),
      counter('cameras.last_frame', lastFrame),
      counter('cameras.resolution', camera.width ? `${camera.width}×${camera.height}` : null),
      counter('cameras.worker', camera.worker)),
    coverageList(camera),
    h('footer', {}, h('span', {}, camera.camera_id),
      h('a', { class: 'zone-link', href: `#/cameras/${encodeURIComponent(camera.camera_id)}/zones` },
        t('cameras.edit_zones'))));
}

export function mount(root) {
  const wall = h('div', { class: 'camera-wall', id: 'camera-wall' });
  root.append(h('div', { class: 'view-head' }, h('h1', {}, t('cameras.title')),
    h('span', { class: 'count' }, t('cameras.updated', { n: REFRESH_S }))), wall);
  let timer = null;
  let stopped = false;
  const load = async () => {
    try {
      const cameras = await get('/api/cameras');
      if (stopped) return;
      const old = new Map([...wall.querySelectorAll('.camera')].map((el) => [el.dataset.cameraId,
        el.querySelector('.snapshot')]));
      clear(wall).append(...(cameras.length
        ? cameras.map((camera) => card(camera, old.get(camera.camera_id)))
        : [message(t('cameras.empty'))]));
    } catch (error) {
      if (!stopped) clear(wall).append(message(t('error.load', { msg: error.message }), 'error'));
    }
    if (!stopped) timer = setTimeout(load, REFRESH_S * 1000);
  };
  load();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
