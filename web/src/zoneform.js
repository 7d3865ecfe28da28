// The selected zone's settings: a form for operators (every input writes into the draft zone at once, nothing is
// sent until "save"), the same facts as text for everyone else. The API's 422 messages stand beside their fields.

import { h } from './dom.js';
import { label, t } from './i18n.js';
import { CLASS_IDS, KINDS, KIND_CLASSES, OVERRIDE_FIELDS, PRIORITIES, WEEKDAYS } from './zonemodel.js';

const FIELDS = ['id', 'name', 'kind', 'polygon', 'classes', 'priority', 'grid', 'overrides', 'schedule'];
const option = (value, text, selected) => h('option', { value, selected: value === selected }, text);

function facts(zone, names) {
  const row = (field, value) => [h('dt', {}, t(`zones.field.${field}`)), h('dd', { dataset: { field } }, value)];
  const overrides = Object.entries(zone.overrides || {}).map(([cls, o]) => `${names(cls)}: ${OVERRIDE_FIELDS
    .filter((f) => o[f] !== null && o[f] !== undefined).map((f) => `${t(`zones.override.${f}`)} ${o[f]}`).join(', ')}`);
  const windows = (zone.schedule || []).map((w) => `${w.days.map((d) => t(`day.${d}`)).join('')} `
    + `${String(w.start).slice(0, 5)}–${String(w.end).slice(0, 5)}`);
  return h('dl', { class: 'facts zone-facts', id: 'zone-facts' },
    row('id', zone.id), row('name', zone.name || t('case.none')), row('kind', label('zone', zone.kind)),
    row('classes', (zone.classes || []).map(names).join('、') || t('case.none')),
    row('priority', label('priority', zone.priority)), row('grid', zone.grid || t('case.none')),
    row('overrides', overrides.join('；') || t('case.none')),
    row('schedule', windows.join('；') || t('zones.always')),
    row('polygon', t('zones.vertices', { n: zone.polygon.length })));
}

/** item: {key, zone, state}; names(cls) → the class's name; onChange(key) after every edit. */
export function zoneForm(item, { canEdit, names, onChange }) {
  const zone = item.zone;
  if (!canEdit) return { element: facts(zone, names), showErrors() {}, refresh() {} };
  const slots = {};
  const slot = (field) => {
    slots[field] = h('p', { class: 'field-error', role: 'alert', hidden: true, dataset: { errorFor: field } });
    return slots[field];
  };
  const changed = () => onChange(item.key);
  const field = (name, control, cls = 'field') => h('div', { class: cls, dataset: { field: name } },
    h('label', { for: `zf-${name}` }, t(`zones.field.${name}`)), control, slot(name));
  const text = (name, value, attrs = {}) => h('input', { id: `zf-${name}`, name, value: value || '', ...attrs,
    oninput: (e) => { zone[name] = name === 'id' ? e.target.value.trim() : e.target.value; changed(); } });

  const classesBox = h('div', { class: 'chips', id: 'zf-classes' });
  const overridesBox = h('div', { class: 'overrides', id: 'zf-overrides' });
  const scheduleBox = h('div', { class: 'schedule', id: 'zf-schedule' });
  const polygonInfo = h('span', { class: 'polygon-info', id: 'zf-polygon' });

  function drawClasses() {
    classesBox.replaceChildren(...CLASS_IDS.map((cls) => h('label', { class: 'chip' },
      h('input', { type: 'checkbox', name: 'classes', value: cls, checked: zone.classes.includes(cls),
        onchange: (e) => {
          zone.classes = CLASS_IDS.filter((c) => (c === cls ? e.target.checked : zone.classes.includes(c)));
          dropStrayOverrides();
          drawOverrides();
          changed();
        } }), names(cls))));
  }

  function dropStrayOverrides() {
    for (const cls of Object.keys(zone.overrides || {})) if (!zone.classes.includes(cls)) delete zone.overrides[cls];
  }

  function drawOverrides() {
    const head = h('tr', {}, h('th', {}, t('zones.field.classes')),
      OVERRIDE_FIELDS.map((f) => h('th', {}, t(`zones.override.${f}`))));
    const rows = zone.classes.map((cls) => h('tr', { dataset: { cls } }, h('td', {}, names(cls)),
      OVERRIDE_FIELDS.map((f) => {
        const value = ((zone.overrides || {})[cls] || {})[f];
        return h('td', {}, h('input', { type: 'number', step: 'any', min: '0', name: `override.${cls}.${f}`,
          value: value === null || value === undefined ? '' : String(value), placeholder: t('zones.default'),
          oninput: (e) => {
            zone.overrides = zone.overrides || {};
            zone.overrides[cls] = { ...(zone.overrides[cls] || {}), [f]: e.target.value === '' ? null : e.target.value };
            changed();
          } }));
      })));
    overridesBox.replaceChildren(h('table', { class: 'override-table' }, h('thead', {}, head), h('tbody', {}, rows)));
  }

  function drawSchedule() {
    const windows = zone.schedule.map((w, index) => h('div', { class: 'window', dataset: { index } },
      h('span', { class: 'days' }, WEEKDAYS.map((d) => h('label', { class: 'chip day' },
        h('input', { type: 'checkbox', name: `day-${index}`, value: d, checked: w.days.includes(d),
          onchange: (e) => {
            w.days = WEEKDAYS.filter((x) => (x === d ? e.target.checked : w.days.includes(x)));
            changed();
          } }), t(`day.${d}`)))),
      h('input', { type: 'time', name: `start-${index}`, value: String(w.start).slice(0, 5), 'aria-label': t('zones.start'),
        oninput: (e) => { w.start = e.target.value; changed(); } }),
      h('span', {}, '–'),
      h('input', { type: 'time', name: `end-${index}`, value: String(w.end).slice(0, 5), 'aria-label': t('zones.end'),
        oninput: (e) => { w.end = e.target.value; changed(); } }),
      h('button', { type: 'button', class: 'secondary', onclick: () => {
        zone.schedule.splice(index, 1);
        drawSchedule();
        changed();
      } }, t('zones.remove_window'))));
    scheduleBox.replaceChildren(
      ...(windows.length ? windows : [h('p', { class: 'notice' }, t('zones.always'))]),
      h('button', { type: 'button', class: 'secondary', id: 'zf-add-window', onclick: () => {
        zone.schedule.push({ days: WEEKDAYS.slice(0, 5), start: '07:00', end: '09:00' });
        drawSchedule();
        changed();
      } }, t('zones.add_window')));
  }

  const kind = h('select', { id: 'zf-kind', name: 'kind', onchange: (e) => {
    zone.kind = e.target.value;
    zone.classes = [...KIND_CLASSES[zone.kind]];
    dropStrayOverrides();
    drawClasses();
    drawOverrides();
    changed();
  } }, KINDS.map((k) => option(k, label('zone', k), zone.kind)));
  const priority = h('select', { id: 'zf-priority', name: 'priority',
    onchange: (e) => { zone.priority = e.target.value || null; changed(); } },
  option('', t('zones.priority_default'), zone.priority || ''),
  PRIORITIES.map((p) => option(p, label('priority', p), zone.priority || '')));

  zone.overrides = zone.overrides || {};
  zone.schedule = zone.schedule || [];
  drawClasses();
  drawOverrides();
  drawSchedule();
  const element = h('form', { class: 'zone-form', id: 'zone-form', novalidate: true, onsubmit: (e) => e.preventDefault() },
    item.state === 'new'
      ? field('id', text('id', zone.id, { required: true, maxlength: 64, pattern: '[A-Za-z0-9_.\\-]{1,64}' }))
      : field('id', h('span', { id: 'zf-id', class: 'zone-id' }, zone.id)),
    field('name', text('name', zone.name, { maxlength: 100 })),
    field('kind', kind),
    field('polygon', polygonInfo),
    field('classes', classesBox, 'field wide'),
    field('priority', priority),
    field('grid', text('grid', zone.grid, { maxlength: 64 })),
    field('overrides', overridesBox, 'field wide'),
    field('schedule', scheduleBox, 'field wide'),
    slot(''));

  function refresh() {
    polygonInfo.textContent = t('zones.vertices', { n: zone.polygon.length });
  }
  refresh();

  /** [{field, rest, msg}]: each message beside its field (a field the form lacks: at the bottom). */
  function showErrors(errors) {
    for (const el of Object.values(slots)) {
      el.hidden = true;
      el.textContent = '';
    }
    for (const { field: name, rest, msg } of errors) {
      const target = slots[FIELDS.includes(name) ? name : ''];
      target.hidden = false;
      target.textContent = [target.textContent, rest ? `${rest}: ${msg}` : msg].filter(Boolean).join('；');
    }
  }

  return { element, showErrors, refresh };
}
