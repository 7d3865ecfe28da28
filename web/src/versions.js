// 历史版本 / a zone's versions: who changed it, when and how; two compared field by field; an old one restored
// (as a new version, so a restore can be undone the same way).

import { clear, h, message } from './dom.js';
import { fmtTime, t } from './i18n.js';
import * as zoneapi from './zoneapi.js';

const shown = (value) => (value === null || value === undefined ? t('case.none')
  : typeof value === 'object' ? JSON.stringify(value) : String(value));

/** onRestored(zoneOut) after a restore; canEdit shows the restore buttons. */
export function versionsPanel({ cameraId, zoneId, canEdit, onRestored }) {
  const body = h('div', { class: 'versions-body' }, message(t('common.loading')));
  const element = h('section', { class: 'panel versions', id: 'versions' },
    h('h2', {}, t('versions.title', { id: zoneId })), body);
  const diffBox = h('div', { id: 'version-diff', class: 'version-diff' });

  async function compare(from, to) {
    clear(diffBox).append(message(t('common.loading')));
    try {
      const result = await zoneapi.diff(cameraId, zoneId, from, to);
      clear(diffBox).append(result.changes.length
        ? h('table', { class: 'cases diff-table' },
          h('thead', {}, h('tr', {}, h('th', {}, t('versions.field')), h('th', {}, `v${from}`), h('th', {}, `v${to}`))),
          h('tbody', {}, result.changes.map((c) => h('tr', { dataset: { field: c.field } },
            h('td', {}, t(`zones.field.${c.field}`) === `zones.field.${c.field}` ? c.field : t(`zones.field.${c.field}`)),
            h('td', { class: 'diff-from' }, shown(c.from)), h('td', { class: 'diff-to' }, shown(c.to))))))
        : message(t('versions.same')));
    } catch (error) {
      clear(diffBox).append(message(t('error.load', { msg: error.message }), 'error'));
    }
  }

  async function restore(version, button) {
    button.disabled = true;
    try {
      onRestored(await zoneapi.restore(cameraId, zoneId, version));
    } catch (error) {
      button.disabled = false;
      body.append(message(t('error.load', { msg: error.message }), 'error'));
    }
  }

  function draw(rows) {
    const numbers = rows.map((r) => r.version);
    const latest = Math.max(...numbers);
    const pick = (name, selected) => h('select', { name, 'aria-label': t(`versions.${name}`) },
      numbers.map((n) => h('option', { value: String(n), selected: n === selected }, `v${n}`)));
    const from = pick('from', numbers.length > 1 ? numbers[1] : latest); // newest first: the one before it
    const to = pick('to', latest);
    const table = h('table', { class: 'cases versions-table', id: 'versions-table' },
      h('thead', {}, h('tr', {}, ['version', 'action', 'author', 'at', 'note'].map((c) => h('th', {}, t(`versions.${c}`))),
        canEdit ? h('th', {}) : null)),
      h('tbody', {}, rows.map((r) => h('tr', { dataset: { version: r.version, action: r.action } },
        h('td', {}, `v${r.version}`), h('td', {}, t(`versions.action.${r.action}`) === `versions.action.${r.action}`
          ? r.action : t(`versions.action.${r.action}`)),
        h('td', {}, r.author), h('td', {}, fmtTime(r.at)), h('td', {}, r.note || ''),
        canEdit ? h('td', {}, r.zone && r.version !== latest
          ? h('button', { type: 'button', class: 'secondary restore', dataset: { version: r.version },
            onclick: (e) => restore(r.version, e.target) }, t('versions.restore')) : null) : null))));
    clear(body).append(table,
      h('div', { class: 'filter-row compare' }, from, to, h('button', { type: 'button', class: 'secondary',
        id: 'versions-compare', onclick: () => compare(Number(from.value), Number(to.value)) }, t('versions.compare'))),
      diffBox);
  }

  zoneapi.versions(cameraId, zoneId)
    .then((rows) => draw([...rows].sort((a, b) => b.version - a.version)))
    .catch((error) => clear(body).append(message(t('error.load', { msg: error.message }), 'error')));
  return element;
}
