// 标注 / labels, the zone classifiers' training data: what the centre says about a zone on a picture (it shows the
// problem, or it is clear of it). In the zone editor, for the selected saved zone, on the camera's current view; in
// the case view, on the case's own picture. Dispatchers, operators and admins label; everyone sees the counts.

import { session } from './api.js';
import { calibratePanel } from './coverage.js';
import { age, clear, h, message, picture } from './dom.js';
import { label, t } from './i18n.js';
import * as zoneapi from './zoneapi.js';
import { KIND_CLASSES } from './zonemodel.js';

export const LABELLERS = ['dispatcher', 'operator', 'admin'];
const RECENT = 6;

/** Whether the logged-in role may label (the API checks again: a 403 is shown in words). */
export const mayLabel = (role = (session() || {}).role) => LABELLERS.includes(role);

const verdict = (positive) => t(positive ? 'labels.problem' : 'labels.clear');

/** state: '' while sending, 'ok' or 'error' once the API has answered. */
function say(status, text, state = '') {
  status.className = `labels-status${state ? ` ${state}` : ''}`;
  status.textContent = text;
}

/** "有问题" and "无问题" for one class; both wait while one label is on its way. */
function buttons(cls, send) {
  const pair = [true, false].map((positive) => h('button', {
    type: 'button', class: `label-button ${positive ? 'label-problem' : 'label-clear secondary'}`,
    dataset: { cls, positive: String(positive) },
    onclick: async () => {
      for (const button of pair) button.disabled = true;
      try {
        await send(positive);
      } finally {
        for (const button of pair) button.disabled = false;
      }
    },
  }, verdict(positive)));
  return pair;
}

/** One label as the list shows it: the picture it was made on, what it says, who and when. */
function labelItem(item, names) {
  return h('li', { class: `label-item label-${item.positive ? 'problem' : 'clear'}`,
    dataset: { labelId: String(item.id), cls: item.class, positive: String(item.positive) } },
  picture(item.image_url, names(item.class), 'label-thumb', t('labels.no_picture')),
  h('div', { class: 'label-text' },
    h('div', {}, h('span', { class: 'label-class' }, names(item.class)), ' · ',
      h('span', { class: `label-verdict verdict-${item.positive ? 'problem' : 'clear'}` }, verdict(item.positive))),
    h('div', { class: 'label-meta' }, label('labels.source', item.source), ' · ', item.author, ' · ', age(item.at), item.case_id ? ` · #${item.case_id}` : '',
    item.sent ? '' : ` · ${t('labels.unsent')}`)));
}

/**
 * The zone editor's panel for a saved zone: per watched class the counts so far and, for labellers, two buttons
 * that label the camera's current view; the last few labels with their pictures. names(cls) → the class's name.
 */
export function zoneLabelPanel({ cameraId, zone, canLabel, names, canCalibrate = false }) {
  const watched = zone.classes && zone.classes.length ? zone.classes : KIND_CLASSES[zone.kind] || [];
  const status = h('p', { class: 'labels-status', id: 'labels-status', role: 'status' });
  const recent = h('ul', { class: 'label-recent', id: 'labels-recent' });
  const cells = new Map(); // `${cls}/problem` → td
  let stopped = false;

  const count = (cls, which) => {
    const td = h('td', { class: `label-count count-${which}`, dataset: { count: which } }, '…');
    cells.set(`${cls}/${which}`, td);
    return td;
  };
  const send = async (cls, positive) => {
    say(status, t('labels.sending'));
    try {
      const made = await zoneapi.addLabel(cameraId, zone.id, cls, positive);
      if (stopped) return;
      say(status, t('labels.done', { cls: names(cls), verdict: verdict(positive), id: made.id }), 'ok');
      await load();
    } catch (error) {
      if (!stopped) say(status, t('labels.refused', { msg: error.message }), 'error'); // 409 / 403: the API's words
    }
  };
  const table = h('table', { class: 'labels-table', id: 'labels-table' },
    h('thead', {}, h('tr', {}, h('th', {}, t('labels.class')), h('th', {}, t('labels.problem')),
      h('th', {}, t('labels.clear')), canLabel ? h('th', {}, t('labels.label_now')) : null)),
    h('tbody', {}, watched.map((cls) => h('tr', { dataset: { cls } }, h('td', {}, names(cls)),
      count(cls, 'problem'), count(cls, 'clear'),
      canLabel ? h('td', { class: 'label-buttons' }, buttons(cls, (positive) => send(cls, positive))) : null))));

  async function load() {
    let page;
    try {
      page = await zoneapi.labels(cameraId, zone.id, RECENT);
    } catch (error) {
      if (!stopped) say(status, t('error.load', { msg: error.message }), 'error');
      return;
    }
    if (stopped) return;
    for (const cls of watched) {
      const counts = page.counts[`${zone.id}/${cls}`] || {};
      cells.get(`${cls}/problem`).textContent = String(counts.problem || 0);
      cells.get(`${cls}/clear`).textContent = String(counts.clear || 0);
    }
    clear(recent).append(...page.labels.map((item) => labelItem(item, names)));
    if (!page.labels.length) recent.append(h('li', { class: 'notice' }, t('labels.none')));
  }
  load();
  const coverage = calibratePanel({ cameraId, zoneId: zone.id, canCalibrate, names,
    onStatus: (text, state) => say(status, text, state) });

  const element = h('section', { class: 'panel labels', id: 'labels', dataset: { zoneId: zone.id } },
    h('h2', {}, t('labels.title'), ' · ', zone.name || zone.id),
    h('p', { class: 'notice' }, t(canLabel ? 'labels.explain' : 'labels.explain_view')),
    table, coverage.element, status, h('h3', {}, t('labels.recent')), recent);
  return { element, stop: () => { stopped = true; coverage.stop(); } };
}

/** The case view's "label this picture": the case's clean picture, for its camera, zone and class. The case view
 * redraws on every live change of its case; `memory` (one per case view) carries the answer across redraws, and an
 * answer that arrives after a redraw goes to the panel on the page, not the one that was clicked. */
export function caseLabelPanel(kase, className, memory = {}) {
  if (!mayLabel()) return null;
  const status = h('p', { class: 'labels-status', id: 'case-label-status', role: 'status' });
  if (memory.text) say(status, memory.text, memory.state);
  const tell = (text, state = '') => {
    Object.assign(memory, { text, state });
    say(document.getElementById('case-label-status') || status, text, state);
  };
  const send = async (positive) => {
    tell(t('labels.sending'));
    try {
      const made = await zoneapi.addLabel(kase.camera_id, kase.zone_id, kase.class, positive, kase.id);
      tell(t('labels.case_done', { id: made.id, verdict: verdict(positive) }), 'ok');
    } catch (error) {
      tell(t('labels.refused', { msg: error.message }), 'error');
    }
  };
  return h('div', { class: 'case-labels', id: 'case-labels' },
    h('h2', {}, t('labels.case_title')),
    message(t('labels.case_explain', { cls: className })),
    h('div', { class: 'buttons' }, buttons(kase.class, send)),
    status);
}
