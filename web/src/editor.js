// The camera's latest picture with its zones drawn on top (an SVG sized to the picture, points in 0..1):
// draw a polygon by clicking, drag, insert (the small handles between vertices) and delete vertices (right-click,
// or a selected vertex and Delete), select a zone by clicking it; and the picture half of calibration pairs.

import { h } from './dom.js';
import { t } from './i18n.js';
import { centre, points, s } from './svg.js';

const HANDLE_PX = 7; // vertex handles, on screen
const CLOSE_PX = 12; // a click this near the first vertex closes the polygon
const round = (v) => Math.round(Math.min(1, Math.max(0, v)) * 10000) / 10000;

/**
 * model() → {items: [{key, zone, state}], mapZones: [zone], selected: key|null, pairs: [[x, y]], pending: [x, y]|null}
 * Callbacks: onSelect(key|null), onChange(key) after a geometry edit, onDrawn(polygon), onImagePoint([x, y]), onHint(text).
 */
export function createEditor({ src, alt, canEdit, model, onSelect, onChange, onDrawn, onImagePoint, onHint }) {
  let width = 1600;
  let height = 900;
  let mode = 'select'; // select | draw | calibrate
  let drawing = [];
  let cursor = null;
  let drag = null; // {key, index, moved}
  let vertex = null; // {key, index}: the selected vertex, for the Delete key

  const svg = s('svg', { class: 'zone-overlay', id: 'zone-overlay', viewBox: `0 0 ${width} ${height}`,
    preserveAspectRatio: 'none', role: 'application', tabindex: 0, 'aria-label': t('zones.overlay') });
  const placeholder = () => h('div', { class: 'zone-frame placeholder' }, t('zones.no_picture'));
  const frame = src ? h('img', { class: 'zone-frame', id: 'zone-frame', src, alt: alt || '' }) : placeholder();
  const stage = h('div', { class: 'zone-stage', id: 'zone-stage', dataset: { mode } }, frame, svg);
  if (src) {
    frame.addEventListener('load', () => {
      width = frame.naturalWidth || width;
      height = frame.naturalHeight || height;
      svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
      render();
    }, { once: true });
    frame.addEventListener('error', () => { frame.replaceWith(placeholder()); render(); }, { once: true });
  }

  const item = (key) => model().items.find((i) => i.key === key);
  const scale = () => width / (svg.getBoundingClientRect().width || width);

  function at(event) {
    const box = svg.getBoundingClientRect();
    return [round((event.clientX - box.left) / box.width), round((event.clientY - box.top) / box.height)];
  }

  function zoneShape(zone, cls, data) {
    const [cx, cy] = centre(zone.polygon);
    const font = 15 * scale();
    return s('g', { class: cls, dataset: data },
      s('polygon', { points: points(zone.polygon, width, height), dataset: data }),
      s('text', { class: 'zone-label', x: cx * width, y: cy * height, 'font-size': font, 'text-anchor': 'middle' },
        zone.name || zone.id));
  }

  function handles(key, polygon) {
    const r = HANDLE_PX * scale();
    const out = [];
    polygon.forEach(([x, y], index) => {
      const [nx, ny] = polygon[(index + 1) % polygon.length];
      if (polygon.length > 1) {
        out.push(s('circle', { class: 'mid-handle', cx: ((x + nx) / 2) * width, cy: ((y + ny) / 2) * height,
          r: r * 0.65, dataset: { role: 'mid', key, index } }));
      }
    });
    polygon.forEach(([x, y], index) => {
      const on = vertex && vertex.key === key && vertex.index === index;
      out.push(s('circle', { class: `vertex${on ? ' vertex-selected' : ''}`, cx: x * width, cy: y * height, r,
        dataset: { role: 'vertex', key, index } }));
    });
    return out;
  }

  function render() {
    const m = model();
    const r = HANDLE_PX * scale();
    const layers = m.mapZones.map((zone) => zoneShape(zone, `zone zone-map zk-${zone.kind}`,
      { role: 'map', zoneId: zone.id }));
    for (const { key, zone, state } of m.items) {
      if (state === 'deleted') continue;
      const chosen = key === m.selected;
      layers.push(zoneShape(zone, `zone zk-${zone.kind} zs-${state}${chosen ? ' zone-selected' : ''}`,
        { role: 'zone', key, zoneId: zone.id }));
    }
    const current = m.items.find((i) => i.key === m.selected && i.state !== 'deleted');
    if (current && canEdit && mode === 'select') layers.push(s('g', {}, handles(current.key, current.zone.polygon)));
    if (mode === 'draw' && drawing.length) {
      const trail = cursor ? [...drawing, cursor] : drawing;
      layers.push(s('polyline', { class: 'drawing', points: points(trail, width, height) }));
      drawing.forEach(([x, y], index) => layers.push(s('circle', {
        class: index === 0 ? 'vertex vertex-first' : 'vertex', cx: x * width, cy: y * height, r,
        dataset: { role: index === 0 ? 'first' : 'drawn', index } })));
    }
    const pins = [...m.pairs.map((p, i) => [p, String(i + 1), 'pin']), ...(m.pending ? [[m.pending, '?', 'pin pin-pending']] : [])];
    for (const [[x, y], text, cls] of pins) {
      layers.push(s('g', { class: cls }, s('circle', { cx: x * width, cy: y * height, r: r * 1.2 }),
        s('text', { x: x * width, y: y * height, dy: '0.35em', 'font-size': r * 1.5, 'text-anchor': 'middle' }, text)));
    }
    svg.replaceChildren(...layers);
  }

  function finish() {
    if (drawing.length < 3) {
      onHint(t('zones.need_three'));
      return false;
    }
    const polygon = drawing;
    cancel();
    onDrawn(polygon);
    return true;
  }

  function cancel() {
    drawing = [];
    cursor = null;
    setMode('select');
  }

  function removeVertex(key, index) {
    const target = item(key);
    if (!target) return;
    target.zone.polygon.splice(index, 1);
    vertex = null;
    onChange(key);
    render();
  }

  svg.addEventListener('pointerdown', (event) => {
    if (event.button !== 0) return;
    svg.focus({ preventScroll: true }); // Delete, Enter and Esc then reach the picture
    const point = at(event);
    const data = event.target.dataset || {};
    if (mode === 'calibrate') {
      onImagePoint(point);
      return;
    }
    if (mode === 'draw') {
      const [fx, fy] = drawing[0] || [];
      const near = drawing.length && Math.hypot((fx - point[0]) * width, (fy - point[1]) * height) / scale() < CLOSE_PX;
      if ((data.role === 'first' || near) && drawing.length >= 3) finish();
      else {
        drawing.push(point);
        render();
      }
      return;
    }
    if (canEdit && (data.role === 'vertex' || data.role === 'mid')) {
      let index = Number(data.index);
      if (data.role === 'mid') {
        index += 1;
        item(data.key).zone.polygon.splice(index, 0, point);
      }
      vertex = { key: data.key, index };
      drag = { key: data.key, index, moved: data.role === 'mid' };
      svg.setPointerCapture(event.pointerId);
      render();
      return;
    }
    vertex = null;
    onSelect(data.role === 'zone' ? data.key : null);
  });

  svg.addEventListener('pointermove', (event) => {
    if (drag) {
      item(drag.key).zone.polygon[drag.index] = at(event);
      drag.moved = true;
      render();
    } else if (mode === 'draw') {
      cursor = at(event);
      render();
    }
  });

  const release = () => {
    if (drag && drag.moved) onChange(drag.key);
    drag = null;
  };
  svg.addEventListener('pointerup', release);
  svg.addEventListener('pointercancel', release);

  svg.addEventListener('contextmenu', (event) => {
    const data = event.target.dataset || {};
    if (mode === 'draw') {
      event.preventDefault();
      drawing.pop();
      render();
    } else if (canEdit && data.role === 'vertex') {
      event.preventDefault();
      removeVertex(data.key, Number(data.index));
    }
  });

  const onKey = (event) => {
    const within = (selector) => event.target.closest && event.target.closest(selector);
    if (within('input, select, textarea')) return; // typing in the form
    if (mode === 'draw' && event.key === 'Escape') cancel();
    else if (mode === 'draw' && event.key === 'Enter' && !within('button')) finish();
    else if (vertex && (event.key === 'Delete' || event.key === 'Backspace')) {
      event.preventDefault();
      removeVertex(vertex.key, vertex.index);
    }
  };
  document.addEventListener('keydown', onKey);
  const onResize = () => render();
  window.addEventListener('resize', onResize);

  function setMode(next) {
    mode = next;
    stage.dataset.mode = next;
    if (next !== 'draw') cursor = null;
    onHint(t(next === 'select' && !canEdit ? 'zones.hint.view' : `zones.hint.${next}`));
    render();
  }

  return {
    element: stage,
    render,
    setMode,
    mode: () => mode,
    finish,
    cancel,
    startDrawing() {
      drawing = [];
      vertex = null;
      setMode('draw');
    },
    destroy() {
      document.removeEventListener('keydown', onKey);
      window.removeEventListener('resize', onResize);
    },
  };
}
