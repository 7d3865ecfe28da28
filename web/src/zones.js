// 区域编辑 / a camera's zones (#/cameras/{id}/zones): its latest picture with the zones on top, a form for the
// selected one, what-if, save, versions and calibration. Everyone may look; operators and admins get the controls.
//
// The page keeps a draft: every zone as edited, beside the zone as saved. "Save" sends only the differences
// (POST new, PUT changed, DELETE removed); what-if sends the whole draft. A draft with unsaved changes outlives
// the view (a language switch draws the page again), until it is saved or discarded.

import { classes } from './cases.js';
import { calibrationPanel } from './calibration.js';
import { clear, h, localUrl, message } from './dom.js';
import { className, label, t } from './i18n.js';
import { createEditor } from './editor.js';
import { mayLabel, zoneLabelPanel } from './labels.js';
import { versionsPanel } from './versions.js';
import { whatifPanel } from './whatif.js';
import * as zoneapi from './zoneapi.js';
import { canonical, copy, fieldOf, freeId, newZone, reason, sameZone } from './zonemodel.js';
import { zoneForm } from './zoneform.js';

const EDITORS = ['operator', 'admin'];
const drafts = new Map(); // camera id → {items, counter, selected}: unsaved work kept while the dashboard is open

function stateOf(item) {
  if (item.deleted) return 'deleted';
  if (!item.saved) return 'new';
  return sameZone(item.zone, item.saved) ? 'saved' : 'changed';
}

const fromServer = (rows) => rows.map((row) => ({ key: row.zone.id, zone: copy(row.zone), saved: row.zone,
  version: row.version, deleted: false, errors: [] }));

function errorsOf(error) {
  if (error.fields && error.fields.length) {
    return error.fields.map((f) => ({ ...fieldOf(f.loc), msg: reason(f.msg) }));
  }
  return [{ field: error.status === 409 ? 'id' : '', rest: '', msg: error.message }];
}

export function mount(root, route) {
  const cameraId = route.params.id;
  const notice = h('div', { class: 'zones-notice', id: 'zones-notice' });
  const title = h('h1', {}, t('zones.title', { name: cameraId }));
  const body = h('div', { class: 'zones-page' }, message(t('common.loading')));
  root.append(h('div', { class: 'view-head' }, h('a', { class: 'back', href: '#/cameras' }, t('zones.back')), title,
    h('span', { class: 'count' }, cameraId)), notice, body);
  const cleanup = [];
  let stopped = false;

  (async () => {
    let loaded;
    try {
      loaded = await Promise.all([zoneapi.me(), zoneapi.camera(cameraId), zoneapi.zones(cameraId),
        zoneapi.zoneSet(cameraId), classes()]);
    } catch (error) {
      if (!stopped) clear(body).append(message(t('error.load', { msg: error.message }), 'error'));
      return;
    }
    if (stopped) return;
    const [who, camera, saved, zoneSet, classList] = loaded;
    title.textContent = t('zones.title', { name: camera.name || cameraId });
    build({ canEdit: EDITORS.includes(who.role), canLabel: mayLabel(who.role), camera, saved, zoneSet, classList });
  })();

  function build({ canEdit, canLabel, camera, saved, zoneSet, classList }) {
    const classNames = new Map(classList.map((c) => [c.id, className(c)]));
    const names = (cls) => classNames.get(cls) || cls;
    const kept = drafts.get(cameraId);
    const state = { items: kept ? kept.items : fromServer(saved), mapZones: [], selected: null,
      counter: kept ? kept.counter : 0 };
    const setMapZones = (set) => {
      const own = new Set(state.items.map((i) => (i.saved ? i.saved.id : i.zone.id)));
      state.mapZones = set.zones.filter((z) => !own.has(z.id));
    };
    setMapZones(zoneSet);
    if (kept) notice.append(message(t('zones.kept')));

    const list = h('ul', { class: 'zone-list', id: 'zone-list' });
    const formBox = h('div', { class: 'zone-form-box', id: 'zone-form-box' });
    const versionsBox = h('div', { id: 'versions-box' });
    const labelsBox = h('div', { id: 'labels-box' }); // labelling the current view: the selected saved zone's
    let labels = null;
    const hint = h('p', { class: 'notice editor-hint', id: 'editor-hint' });
    const status = h('p', { class: 'zones-status', id: 'zones-status', role: 'status' });
    let form = null;
    let editor = null; // made below: calibration's callbacks only run once it exists
    const item = (key) => state.items.find((i) => i.key === key);

    const calibration = calibrationPanel({ cameraId, canEdit, location: camera.location,
      calibrated: Boolean(zoneSet.homography),
      setPicking: (on) => editor && editor.setMode(on ? 'calibrate' : 'select'),
      onChange: () => editor && editor.render(),
      onSaved: async () => {
        try {
          setMapZones(await zoneapi.zoneSet(cameraId));
          refresh();
        } catch (error) {
          say(t('error.load', { msg: error.message }), true);
        }
      } });

    const src = localUrl(camera.snapshot_url);
    editor = createEditor({ src: src ? `${src}?t=${Date.now()}` : null, alt: camera.name || cameraId, canEdit,
      model: () => ({ items: state.items.map((i) => ({ key: i.key, zone: i.zone, state: stateOf(i) })),
        mapZones: state.mapZones, selected: state.selected, pairs: calibration.pins(), pending: calibration.pending() }),
      onSelect: (key) => select(key),
      onChange: (key) => changed(key),
      onDrawn: (polygon) => {
        const taken = new Set([...state.items.map((i) => i.zone.id), ...state.mapZones.map((z) => z.id)]);
        state.counter += 1;
        const fresh = { key: `new-${state.counter}`, zone: newZone(freeId(taken), polygon), saved: null,
          deleted: false, errors: [] };
        state.items.push(fresh);
        select(fresh.key);
        changed(fresh.key);
      },
      onImagePoint: (point) => calibration.imagePoint(point),
      onHint: (text) => {
        hint.textContent = text;
        tools();
      } });
    cleanup.push(() => editor.destroy(), () => calibration.stop(), () => labels && labels.stop());

    function say(text, error = false) {
      status.className = error ? 'zones-status error' : 'zones-status';
      status.textContent = text;
    }

    function remember() {
      const dirty = state.items.some((i) => stateOf(i) !== 'saved');
      if (dirty) drafts.set(cameraId, { items: state.items, counter: state.counter, selected: state.selected });
      else drafts.delete(cameraId);
      return state.items.filter((i) => stateOf(i) !== 'saved').length;
    }

    function drawList() {
      clear(list).append(
        ...state.items.map((i) => {
          const st = stateOf(i);
          return h('li', { class: `zone-item zs-${st}${i.key === state.selected ? ' selected' : ''}`
            + `${i.errors.length ? ' has-errors' : ''}`, dataset: { key: i.key, zoneId: i.zone.id, state: st } },
          h('button', { type: 'button', class: 'link zone-pick', onclick: () => select(i.key) },
            h('span', { class: `zone-kind zone-${i.zone.kind}` }, label('zone', i.zone.kind)),
            h('span', { class: 'zone-title' }, i.zone.name || i.zone.id),
            h('span', { class: 'zone-sub' }, i.zone.id)),
          st === 'saved' ? null : h('span', { class: `zone-state state-${st}` }, t(`zones.state.${st}`)));
        }),
        ...state.mapZones.map((z) => h('li', { class: 'zone-item zone-item-map', dataset: { zoneId: z.id } },
          h('span', { class: `zone-kind zone-${z.kind}` }, label('zone', z.kind)),
          h('span', { class: 'zone-title' }, z.name || z.id), h('span', { class: 'zone-state' }, t('zones.map_zone')))));
      if (!state.items.length && !state.mapZones.length) list.append(h('li', { class: 'notice' }, t('zones.empty')));
    }

    function tools() {
      if (!canEdit) return;
      const mode = editor ? editor.mode() : 'select';
      const current = item(state.selected);
      for (const [id, show] of [['zone-new', mode === 'select'], ['zone-done', mode === 'draw'],
        ['zone-cancel', mode === 'draw']]) {
        const button = document.getElementById(id);
        if (button) button.hidden = !show;
      }
      const remove = document.getElementById('zone-delete');
      if (remove) {
        remove.disabled = !current;
        remove.textContent = current && current.deleted ? t('zones.undelete') : t('zones.delete');
      }
    }

    function refresh() {
      drawList();
      editor.render();
      tools();
      const count = remember();
      if (!status.classList.contains('error') || count === 0) {
        say(count ? t('zones.unsaved', { n: count }) : t('zones.clean'));
      }
    }

    function changed(key) {
      const target = item(key);
      if (target && form && state.selected === key) {
        form.refresh();
        const heading = document.getElementById('zone-form-title');
        if (heading) heading.textContent = t('zones.selected', { name: target.zone.name || target.zone.id });
      }
      refresh();
    }

    function select(key) {
      state.selected = key && item(key) ? key : null;
      const current = item(state.selected);
      [formBox, versionsBox, labelsBox].forEach(clear);
      if (labels) labels.stop();
      form = null;
      labels = current && current.saved ? zoneLabelPanel({ cameraId, zone: current.saved, canLabel, names,
        canCalibrate: canEdit }) : null;
      if (labels) labelsBox.append(labels.element);
      if (current) {
        form = zoneForm({ key: current.key, zone: current.zone, state: stateOf(current) },
          { canEdit: canEdit && !current.deleted, names, onChange: changed });
        formBox.append(h('h2', { id: 'zone-form-title' }, t('zones.selected', { name: current.zone.name || current.zone.id })),
          form.element);
        form.showErrors(current.errors);
        if (current.saved) {
          versionsBox.append(versionsPanel({ cameraId, zoneId: current.saved.id, canEdit, onRestored: (out) => {
            Object.assign(current, { zone: copy(out.zone), saved: out.zone, version: out.version, errors: [] });
            select(current.key);
            say(t('versions.restored', { version: out.version }));
          } }));
        }
      } else {
        formBox.append(h('p', { class: 'notice' }, canEdit ? t('zones.pick_or_draw') : t('zones.pick')));
      }
      refresh();
    }

    async function reload(keepSelected) {
      const [rows, set] = await Promise.all([zoneapi.zones(cameraId), zoneapi.zoneSet(cameraId)]);
      state.items = fromServer(rows);
      setMapZones(set);
      select(item(keepSelected) ? keepSelected : null);
    }

    async function saveAll(button) {
      button.disabled = true;
      say(t('zones.saving'));
      const wanted = state.selected && item(state.selected) ? item(state.selected).zone.id : null;
      let failed = 0;
      for (const one of [...state.items]) {
        const st = stateOf(one);
        one.errors = [];
        try {
          if (st === 'deleted') {
            await zoneapi.deleteZone(cameraId, one.saved.id, one.version);
            state.items = state.items.filter((i) => i !== one);
          } else if (st === 'new' || st === 'changed') {
            const out = await (st === 'new' ? zoneapi.createZone(cameraId, canonical(one.zone))
              : zoneapi.updateZone(cameraId, canonical(one.zone), one.version));
            Object.assign(one, { zone: copy(out.zone), saved: out.zone, version: out.version });
          }
        } catch (error) {
          failed += 1;
          one.errors = errorsOf(error);
        }
      }
      button.disabled = false;
      if (!failed) {
        try {
          await reload(wanted);
          say(t('zones.saved'));
        } catch (error) {
          say(t('error.load', { msg: error.message }), true);
        }
        return;
      }
      const first = state.items.find((i) => i.errors.length);
      select(first ? first.key : null);
      say(t('zones.not_saved', { n: failed }), true);
    }

    const draft = () => [...state.items.filter((i) => !i.deleted).map((i) => canonical(i.zone)),
      ...state.mapZones.map(canonical)];
    const whatif = canEdit ? whatifPanel({ cameraId, draft, names: {
      zone: (id) => {
        const found = state.items.find((i) => i.zone.id === id) || state.mapZones.find((z) => z.id === id);
        const zone = found && (found.zone || found);
        return zone && zone.name ? `${zone.name} (${id})` : id;
      },
      cls: names,
    } }) : null;
    if (whatif) cleanup.push(() => whatif.stop());

    const toolbar = canEdit ? h('div', { class: 'zone-toolbar', id: 'zone-toolbar' },
      h('button', { type: 'button', id: 'zone-new', onclick: () => { select(null); editor.startDrawing(); } },
        t('zones.new')),
      h('button', { type: 'button', id: 'zone-done', hidden: true, onclick: () => editor.finish() }, t('zones.done')),
      h('button', { type: 'button', class: 'secondary', id: 'zone-cancel', hidden: true, onclick: () => editor.cancel() },
        t('zones.cancel')),
      h('button', { type: 'button', class: 'secondary', id: 'zone-delete', disabled: true, onclick: () => {
        const current = item(state.selected);
        if (!current) return;
        if (!current.saved) {
          state.items = state.items.filter((i) => i !== current);
          select(null);
        } else {
          current.deleted = !current.deleted;
          select(current.key);
        }
      } }, t('zones.delete')),
      h('span', { class: 'spacer' }),
      h('button', { type: 'button', class: 'secondary', id: 'zones-discard', onclick: async () => {
        drafts.delete(cameraId);
        clear(notice);
        await reload(state.selected).catch((error) => say(t('error.load', { msg: error.message }), true));
        say(t('zones.discarded'));
      } }, t('zones.discard')),
      h('button', { type: 'button', id: 'zones-save', class: 'save', onclick: (e) => saveAll(e.currentTarget) },
        t('zones.save'))) : null;

    clear(body).append(...[
      toolbar,
      h('div', { class: 'zone-grid' },
        h('div', { class: 'zone-left' }, editor.element, hint, legend(), labelsBox, calibration.element),
        h('aside', { class: 'zone-side' }, h('h2', {}, t('zones.list')), list, status, formBox)),
      whatif && whatif.element,
      versionsBox].filter(Boolean)); // a viewer has no toolbar and no what-if
    select(kept && item(kept.selected) ? kept.selected : null);
    editor.setMode('select');
  }

  return () => {
    stopped = true;
    for (const fn of cleanup) fn();
  };
}

function legend() {
  const row = (cls, text) => h('span', { class: 'legend-row' }, h('span', { class: `swatch ${cls}` }), text);
  return h('div', { class: 'zone-legend' }, row('zk-school', label('zone', 'school')),
    row('zk-hospital', label('zone', 'hospital')), row('zk-other', t('zones.legend.other')),
    row('zk-map', t('zones.map_zone')), row('zk-changed', t('zones.legend.changed')));
}
