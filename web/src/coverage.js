// 分割基准 / a zone's clear level per class, as the camera's worker reports it with its health: uncalibrated,
// calibrated (N frames) or learnt (N labels). The camera wall lists it per camera; the zone editor shows it for the
// selected zone with the operators' "this zone is clear now" button (POST .../calibrate).

import { get, post } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';

/** One zone and class in words: '已校准（12 帧）'. */
export function describe(entry) {
  const state = entry.state || 'uncalibrated';
  return t(`coverage.state.${state}`, { n: state === 'learnt' ? entry.labels : entry.frames });
}

/** The camera wall's list: one line per zone and class the worker reported. */
export function coverageList(camera, names = (cls) => cls) {
  const entries = Array.isArray(camera.coverage) ? camera.coverage : [];
  if (!entries.length) return null;
  return h('ul', { class: 'coverage', dataset: { cameraId: camera.camera_id } }, entries.map((entry) =>
    h('li', { class: `coverage-${entry.state}`, dataset: { zoneId: entry.zone_id, cls: entry.class, state: entry.state } },
      `${entry.zone_id} · ${names(entry.class)}: ${describe(entry)}`)));
}

/** The zone editor's part: the zone's states, and for operators and admins the calibrate button. */
export function calibratePanel({ cameraId, zoneId, canCalibrate, names, onStatus }) {
  const list = h('ul', { class: 'coverage', id: 'zone-coverage' }, h('li', { class: 'notice' }, '…'));
  let stopped = false;
  async function load() {
    let camera;
    try {
      camera = await get(`/api/cameras/${encodeURIComponent(cameraId)}`);
    } catch {
      camera = {};
    }
    if (stopped) return;
    const mine = (camera.coverage || []).filter((entry) => entry.zone_id === zoneId);
    list.replaceChildren(...(mine.length ? mine.map((entry) => h('li', {
      class: `coverage-${entry.state}`, dataset: { cls: entry.class, state: entry.state } },
    `${names(entry.class)}: ${describe(entry)}`,
    entry.sources && entry.sources.auto ? ` · ${t('coverage.auto', { n: entry.sources.auto })}` : ''))
      : [h('li', { class: 'notice' }, t('coverage.none'))]));
  }
  const button = canCalibrate ? h('button', {
    type: 'button', class: 'secondary', id: 'zone-calibrate',
    onclick: async () => {
      button.disabled = true;
      onStatus(t('coverage.calibrating'), '');
      try {
        const done = await post(`/api/cameras/${encodeURIComponent(cameraId)}/zones/${encodeURIComponent(zoneId)}/calibrate`, {});
        if (!stopped) onStatus(t('coverage.done', { n: done.frames, recent: done.recent_frames }), 'ok');
        await load();
      } catch (error) {
        if (!stopped) onStatus(t('coverage.refused', { msg: error.message }), 'error'); // 409 / 504: the API's words
      } finally {
        button.disabled = false;
      }
    },
  }, t('coverage.calibrate')) : null;
  load();
  const element = h('div', { class: 'zone-coverage-box' }, h('h3', {}, t('coverage.title')), list,
    button ? h('p', { class: 'notice' }, t('coverage.explain')) : null, button);
  return { element, stop: () => { stopped = true; } };
}
