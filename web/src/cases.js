// 案件列表: the case queue with filters, sort and pages; the filters live in the address (#/cases?status=new).

import { get } from './api.js';
import { age, clear, debounce, h, message, picture } from './dom.js';
import { className, fmtTime, label, lang, t } from './i18n.js';
import { feed, flags, priorityBadge, statusBadge, zoneBadge } from './live.js';

export const STATUSES = ['new', 'confirmed', 'dispatched', 'resolved', 'reopened', 'closed', 'dismissed'];
const PRIORITIES = ['urgent', 'high', 'normal', 'low'];
const SORTS = ['-created_at', 'created_at', '-updated_at', '-priority', 'deadline'];
const PAGE_SIZES = [20, 50, 100];
const CLASS_IDS = [
  'illegal_parking_motor', 'illegal_parking_nonmotor', 'street_vending', 'outside_store_business',
  'exposed_garbage', 'overflowing_bin', 'standing_water',
];

let classList = null; // [{id, name_zh, name_en}] from /api/classes, once

export async function classes() {
  if (!classList) {
    try {
      const report = await get('/api/classes');
      classList = report.classes.map((c) => ({ id: c.id, name_zh: c.name_zh, name_en: c.name_en }));
    } catch {
      return CLASS_IDS.map((id) => ({ id }));
    }
  }
  return classList;
}

async function cameraIds() {
  try {
    return (await get('/api/cameras')).map((c) => c.camera_id);
  } catch {
    return []; // camera health unavailable: the filter is still a free text field
  }
}

function readFilters(query) {
  return {
    status: query.getAll('status').filter((s) => STATUSES.includes(s)),
    class: query.get('class') || '',
    priority: query.get('priority') || '',
    grid: query.get('grid') || '',
    camera_id: query.get('camera_id') || '',
    overdue: query.get('overdue') === 'true',
    sort: SORTS.includes(query.get('sort')) ? query.get('sort') : '-created_at',
    page: Math.max(1, Number.parseInt(query.get('page') || '1', 10) || 1),
    page_size: PAGE_SIZES.includes(Number(query.get('page_size'))) ? Number(query.get('page_size')) : 20,
  };
}

function toQuery(filters) {
  const query = new URLSearchParams();
  for (const status of filters.status) query.append('status', status);
  for (const name of ['class', 'priority', 'grid', 'camera_id']) if (filters[name]) query.set(name, filters[name]);
  if (filters.overdue) query.set('overdue', 'true');
  if (filters.sort !== '-created_at') query.set('sort', filters.sort);
  if (filters.page > 1) query.set('page', String(filters.page));
  if (filters.page_size !== 20) query.set('page_size', String(filters.page_size));
  return query;
}

function select(name, value, options, onchange) {
  return h('select', { name, onchange },
    options.map(([optionValue, text]) => h('option', { value: optionValue, selected: optionValue === value }, text)));
}

function field(text, control) {
  return h('label', { class: 'field' }, h('span', {}, text), control);
}

function row(kase) {
  const open = () => { window.location.hash = `#/cases/${kase.id}`; };
  const classes = ['case-row'];
  if (kase.overdue) classes.push('row-overdue');
  if (kase.escalated) classes.push('row-escalated');
  return h('tr', { class: classes.join(' '), dataset: { caseId: String(kase.id) }, onclick: open },
    h('td', {}, h('a', { href: `#/cases/${kase.id}` }, `#${kase.id}`)),
    h('td', {}, picture(kase.thumbnail_url, className(kase), 'mini', undefined, kase.evidence_url)),
    h('td', { class: 'strong' }, className(kase)),
    h('td', {}, kase.camera_id),
    h('td', {}, zoneBadge(kase.zone_kind), ' ', kase.zone_name || kase.zone_id),
    h('td', {}, statusBadge(kase.status)),
    h('td', {}, priorityBadge(kase.priority)),
    h('td', {}, kase.grid || t('case.none')),
    h('td', {}, kase.assignee || t('case.none')),
    h('td', { title: fmtTime(kase.deadline) }, kase.deadline ? age(kase.deadline) : t('case.none'), ' ', flags(kase)),
    h('td', {}, age(kase.created_at)));
}

export function mount(root, route) {
  let filters = readFilters(route.query);
  const form = h('form', { class: 'filters', onsubmit: (e) => e.preventDefault() });
  const table = h('div', { class: 'table-wrap' });
  const pager = h('div', { class: 'pager' });
  root.append(h('div', { class: 'view-head' }, h('h1', {}, t('cases.title'))), form, table, pager);

  const apply = (change, resetPage = true) => {
    filters = { ...filters, ...change, ...(resetPage ? { page: 1 } : {}) };
    const query = toQuery(filters).toString();
    window.history.replaceState(null, '', `#/cases${query ? `?${query}` : ''}`);
    load();
  };

  const drawForm = (classOptions, cameras) => {
    const statusChips = h('div', { class: 'chips', role: 'group' }, STATUSES.map((status) => h('label', {
      class: `chip status-${status}`,
    }, h('input', {
      type: 'checkbox', name: 'status', value: status, checked: filters.status.includes(status),
      onchange: () => apply({ status: [...form.querySelectorAll('input[name=status]:checked')].map((i) => i.value) }),
    }), label('status', status))));
    const any = ['', t('cases.filter.any')];
    const cameraInput = h('input', {
      name: 'camera_id', value: filters.camera_id, list: 'camera-options', size: 12,
      onchange: (e) => apply({ camera_id: e.target.value.trim() }),
    });
    const gridInput = h('input', {
      name: 'grid', value: filters.grid, size: 10, onchange: (e) => apply({ grid: e.target.value.trim() }),
    });
    clear(form).append(
      field(t('cases.filter.status'), statusChips),
      h('div', { class: 'filter-row' },
        field(t('cases.filter.class'), select('class', filters.class,
          [any, ...classOptions.map((c) => [c.id, c.name_zh ? className(c) : c.id])],
          (e) => apply({ class: e.target.value }))),
        field(t('cases.filter.priority'), select('priority', filters.priority,
          [any, ...PRIORITIES.map((p) => [p, label('priority', p)])], (e) => apply({ priority: e.target.value }))),
        field(t('cases.filter.grid'), gridInput),
        field(t('cases.filter.camera'), cameraInput),
        h('datalist', { id: 'camera-options' }, cameras.map((id) => h('option', { value: id }))),
        h('label', { class: 'field check' }, h('input', {
          type: 'checkbox', name: 'overdue', checked: filters.overdue,
          onchange: (e) => apply({ overdue: e.target.checked }),
        }), h('span', {}, t('cases.filter.overdue'))),
        field(t('cases.filter.sort'), select('sort', filters.sort, SORTS.map((s) => [s, t(`sort.${s}`)]),
          (e) => apply({ sort: e.target.value }))),
        field(t('cases.page_size'), select('page_size', String(filters.page_size),
          PAGE_SIZES.map((n) => [String(n), String(n)]), (e) => apply({ page_size: Number(e.target.value) }))),
        h('button', {
          type: 'button', class: 'secondary',
          onclick: () => {
            filters = readFilters(new URLSearchParams());
            drawForm(classOptions, cameras);
            apply({});
          },
        }, t('cases.filter.clear'))));
  };

  let generation = 0;
  async function load() {
    const mine = ++generation;
    const params = {
      status: filters.status, class: filters.class, priority: filters.priority, grid: filters.grid,
      camera_id: filters.camera_id, overdue: filters.overdue ? 'true' : '', sort: filters.sort,
      page: filters.page, page_size: filters.page_size,
    };
    let page;
    try {
      page = await get('/api/cases', params);
    } catch (error) {
      if (mine === generation) clear(table).append(message(t('error.load', { msg: error.message }), 'error'));
      return;
    }
    if (mine !== generation) return; // a newer filter has asked since
    const head = ['id', 'evidence', 'class', 'camera', 'zone', 'status', 'priority', 'grid', 'assignee', 'deadline',
      'created'].map((c) => h('th', {}, t(`cases.col.${c}`)));
    clear(table).append(page.items.length
      ? h('table', { class: 'cases', lang: lang() }, h('thead', {}, h('tr', {}, head)),
        h('tbody', {}, page.items.map(row)))
      : message(t('cases.empty')));
    const pages = Math.max(1, Math.ceil((page.total || 0) / page.page_size));
    clear(pager).append(
      h('button', { type: 'button', disabled: filters.page <= 1,
        onclick: () => apply({ page: filters.page - 1 }, false) }, t('cases.prev')),
      h('span', { class: 'page-info' }, t('cases.page', { page: filters.page, pages }), ' · ',
        t(page.total_exact === false ? 'cases.total_more' : 'cases.total', { n: page.total ?? 0 })),
      h('button', { type: 'button', disabled: filters.page >= pages,
        onclick: () => apply({ page: filters.page + 1 }, false) }, t('cases.next')));
  }

  drawForm(CLASS_IDS.map((id) => ({ id })), []);
  Promise.all([classes(), cameraIds()]).then(([classOptions, cameras]) => {
    if (root.isConnected) drawForm(classOptions, cameras);
  });
  load();
  const refresh = debounce(load, 800);
  const off = feed.on(() => refresh());
  return () => {
    off();
    refresh.cancel();
  };
}
