// 案件详情: evidence before and after, the camera check, the timeline, and the moves this user may make.

import { get, post } from './api.js';
import { age, clear, h, message, picture } from './dom.js';
import { className, fmtTime, label, lang, t } from './i18n.js';
import { caseLabelPanel } from './labels.js';
import { feed, flags, priorityBadge, statusBadge, zoneBadge } from './live.js';

const REASONS = ['false_detection', 'allowed', 'duplicate', 'other'];
const ACTION_ORDER = ['confirmed', 'dispatched', 'resolved', 'closed', 'reopened', 'dismissed'];

function fact(name, ...value) {
  return [h('dt', {}, name), h('dd', {}, ...value)];
}

function verification(kase) {
  const state = kase.verification;
  const text = state ? label('verification', state) : t('verification.none');
  return h('div', { class: `verification verification-${state || 'none'}`, id: 'verification' },
    h('h2', {}, t('case.verification')),
    h('p', { class: 'verification-state' }, text),
    kase.verification_note ? h('p', { class: 'verification-note' }, kase.verification_note) : null);
}

function actor(name) {
  if (name === 'camera') return h('span', { class: 'actor actor-camera' }, t('timeline.camera'));
  if (name === 'system') return h('span', { class: 'actor actor-system' }, t('timeline.system'));
  return h('span', { class: 'actor actor-user' }, name);
}

function detailText(details) {
  if (!details || typeof details !== 'object') return null;
  const parts = Object.entries(details)
    .filter(([, value]) => value !== null && value !== undefined && value !== '')
    .map(([key, value]) => {
      const name = `detail.${key}`;
      const shown = key === 'deadline' ? fmtTime(value) : ['priority', 'verdict'].includes(key) ? label(key, value)
        : typeof value === 'object' ? JSON.stringify(value) : String(value);
      return `${t(name) === name ? key : t(name)}: ${shown}`;
    });
  return parts.length ? h('div', { class: 'tl-details' }, parts.join(' · ')) : null;
}

function timeline(entries) {
  if (!entries.length) return message(t('timeline.empty'));
  return h('ol', { class: 'timeline', id: 'timeline' }, entries.map((entry) => h('li', {
    class: `tl tl-${entry.action} tl-actor-${['camera', 'system'].includes(entry.actor) ? entry.actor : 'user'}`,
    dataset: { action: entry.action, to: entry.to_status || '', actor: entry.actor },
  },
  h('div', { class: 'tl-head' },
    h('time', { class: 'tl-time', datetime: entry.at }, fmtTime(entry.at)),
    actor(entry.actor),
    h('span', { class: 'tl-kind' }, label('kind', entry.action) === entry.action ? '' : label('kind', entry.action)),
    entry.from_status ? [statusBadge(entry.from_status), h('span', { class: 'arrow' }, ' → ')] : null,
    entry.to_status ? statusBadge(entry.to_status) : null),
  entry.reason
    ? h('div', { class: 'tl-reason' }, `${t('case.dismiss_reason')}: ${label('reason', entry.reason)}`) : null,
  entry.note ? h('div', { class: 'tl-note' }, entry.note) : null,
  detailText(entry.details))));
}

function actionsPanel(kase, kept, onDone, onConflict) {
  const actions = ACTION_ORDER.filter((a) => kase.actions.includes(a));
  if (!actions.length) return h('p', { class: 'notice no-actions' }, t('case.no_actions'));
  const note = h('textarea', { name: 'note', rows: 2, maxlength: 2000, placeholder: t('case.note_placeholder') });
  note.value = kept.note || '';
  const reason = h('select', { name: 'reason' }, h('option', { value: '' }, t('case.reason_pick')),
    REASONS.map((r) => h('option', { value: r, selected: kept.reason === r }, label('reason', r))));
  const assignee = h('input', {
    name: 'assignee', maxlength: 128, value: kept.assignee || '', placeholder: kase.assignee || '',
  });
  const status = h('p', { class: kept.error ? 'action-status error' : 'action-status', role: 'status' },
    kept.error || '');
  const buttons = actions.map((target) => h('button', {
    type: 'button', class: `action action-${target}`, dataset: { to: target },
    onclick: async (event) => {
      const body = { to: target, note: note.value.trim() || null };
      if (target === 'dismissed') {
        if (!reason.value) {
          status.className = 'action-status error';
          status.textContent = t('case.reason_required');
          reason.focus();
          return;
        }
        body.reason = reason.value;
      }
      if (target === 'dispatched' && assignee.value.trim()) body.assignee = assignee.value.trim();
      for (const button of buttons) button.disabled = true;
      status.className = 'action-status';
      status.textContent = t('case.working');
      try {
        const updated = await post(`/api/cases/${kase.id}/transitions`, body);
        onDone(updated);
      } catch (error) {
        status.className = 'action-status error';
        status.textContent = error.detail || error.message; // 409: the server says why, in both languages
        for (const button of buttons) button.disabled = false;
        if (error.status === 409) onConflict(status.textContent); // someone moved it first: show where it is now
      }
      event.target.blur();
    },
  }, label('action', target)));
  return h('form', { class: 'actions', id: 'actions', onsubmit: (e) => e.preventDefault() },
    h('label', { class: 'field wide' }, h('span', {}, t('case.note')), note),
    actions.includes('dismissed') ? h('label', { class: 'field' }, h('span', {}, t('case.reason')), reason) : null,
    actions.includes('dispatched')
      ? h('label', { class: 'field' }, h('span', {}, t('case.assignee_input')), assignee) : null,
    h('div', { class: 'buttons' }, buttons),
    status);
}

function render(root, kase, onDone, kept, onConflict, labelMemory) {
  const facts = h('dl', { class: 'facts' },
    fact(t('case.camera'), kase.camera_id),
    fact(t('case.zone'), zoneBadge(kase.zone_kind), ' ', kase.zone_name || kase.zone_id),
    fact(t('case.grid'), kase.grid || t('case.none')),
    fact(t('case.priority'), priorityBadge(kase.priority)),
    fact(t('case.assignee'), h('span', { id: 'assignee' }, kase.assignee || t('case.none'))),
    fact(t('case.department'), lang() === 'en' ? kase.department_en : kase.department_zh),
    fact(t('case.deadline'), kase.deadline ? [fmtTime(kase.deadline), ' (', age(kase.deadline), ')'] : t('case.none'),
      ' ', flags(kase)),
    fact(t('case.created'), fmtTime(kase.created_at), ' (', age(kase.created_at), ')'),
    fact(t('case.updated'), fmtTime(kase.updated_at)),
    kase.closed_at ? fact(t('case.closed'), fmtTime(kase.closed_at)) : null,
    kase.dismiss_reason ? fact(t('case.dismiss_reason'), label('reason', kase.dismiss_reason)) : null,
    fact(t('case.episodes'), String(kase.episodes)),
    fact(t('case.label'), kase.label, ` (${t('case.confidence')} ${(kase.confidence * 100).toFixed(0)}%)`,
      kase.active ? [' · ', h('span', { class: 'flag flag-active' }, t('flag.active'))] : null),
    kase.reasons && kase.reasons.length
      ? fact(t('case.reasons'), h('ul', { class: 'reasons' }, kase.reasons.map((reason) => h('li', {}, reason))))
      : null,
    fact(t('case.code'), kase.code_gbt_47678_5 || kase.code_gbt_30428_2 || t('case.none')));
  clear(root).append(
    h('div', { class: 'view-head' },
      h('a', { class: 'back', href: '#/cases' }, '← ', t('case.back')),
      h('h1', {}, t('case.title', { id: kase.id }), ' ', h('span', { class: 'case-class' }, className(kase))),
      h('span', { id: 'case-status' }, statusBadge(kase.status)), priorityBadge(kase.priority), flags(kase)),
    h('div', { class: 'case-grid' },
      h('section', { class: 'evidence-pair' },
        h('figure', {}, h('figcaption', {}, t('case.before')), picture(kase.evidence_url, t('case.before'))),
        h('figure', {}, h('figcaption', {}, t('case.after')),
          picture(kase.after_evidence_url, t('case.after'), 'evidence', t('case.no_after')))),
      h('section', { class: 'case-side' },
        facts,
        verification(kase),
        h('h2', {}, t('case.actions')),
        actionsPanel(kase, kept, onDone, onConflict),
        caseLabelPanel(kase, className(kase), labelMemory))),
    h('section', {}, h('h2', {}, t('case.timeline')), timeline(kase.timeline)));
}

export function mount(root, route) {
  const id = Number.parseInt(route.params.id, 10);
  let current = null;
  const labelMemory = {}; // the label panel's last answer, kept across redraws of this case
  root.append(message(t('common.loading')));

  const kept = () => {
    const form = root.querySelector('#actions');
    if (!form) return {};
    return { note: form.note?.value, reason: form.reason?.value, assignee: form.assignee?.value };
  };
  const show = (kase, keep = {}) => {
    current = kase;
    render(root, kase, (updated) => show(updated), keep, (conflict) => load(conflict), labelMemory);
  };
  const load = async (conflict = null) => {
    try {
      const kase = await get(`/api/cases/${id}`);
      // A read that started before our own change landed must not draw the older state over it.
      if (current && new Date(kase.updated_at) < new Date(current.updated_at)) return;
      show(kase, { ...kept(), ...(conflict ? { error: conflict } : {}) });
    } catch (error) {
      if (!current) clear(root).append(message(t('error.load', { msg: error.message }), 'error'));
    }
  };
  const off = feed.on((change) => {
    if (change.kind === 'reset' || (change.case && change.case.id === id)) load();
  });
  load();
  return off;
}
