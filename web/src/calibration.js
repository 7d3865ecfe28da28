// 标定 / calibration: pairs of a point on the picture and the same point on the map (kerb corners, road
// markings), at least four, not on one line. The API fits the homography; when it cannot it says why, shown here.
// The map is the dashboard's own (configured GeoJSON layers, no tile server), loaded when the section opens.

import { get } from './api.js';
import { clear, h, loadScript, loadStyle, message } from './dom.js';
import { t } from './i18n.js';
import * as zoneapi from './zoneapi.js';
import { reason } from './zonemodel.js';

const LEAFLET = '/ui/vendor/leaflet/leaflet.js';
const LEAFLET_CSS = '/ui/vendor/leaflet/leaflet.css';
const six = (v) => Math.round(v * 1e6) / 1e6;

/** setPicking(on) puts the picture in calibration mode; onChange() redraws its pins; onSaved() after a save. */
export function calibrationPanel({ cameraId, canEdit, location, calibrated, setPicking, onChange, onSaved }) {
  let pairs = [];
  let pending = null; // a picture point waiting for its map point
  let picking = false;
  let map = null;
  let pins = null;
  let stopped = false;
  const list = h('ol', { class: 'pairs', id: 'calib-pairs' });
  const status = h('p', { class: 'calib-status', id: 'calib-status', role: 'status' });
  const mapBox = h('div', { class: 'calib-map', id: 'calib-map' });
  const pick = h('button', { type: 'button', class: 'secondary', id: 'calib-pick' }, t('calib.pick'));
  const save = h('button', { type: 'button', id: 'calib-save' }, t('calib.save'));

  const say = (text, error = false) => {
    status.className = error ? 'calib-status error' : 'calib-status';
    status.textContent = text;
  };

  function redraw() {
    clear(list).append(...pairs.map((p, i) => h('li', { dataset: { index: i } },
      t('calib.pair', { x: p.image[0].toFixed(3), y: p.image[1].toFixed(3), lon: p.map[0].toFixed(6),
        lat: p.map[1].toFixed(6) }),
      canEdit ? h('button', { type: 'button', class: 'link', onclick: () => {
        pairs.splice(i, 1);
        redraw();
      } }, t('calib.remove')) : null)));
    if (!pairs.length) list.append(h('li', { class: 'notice' }, t('calib.none')));
    if (map && pins) {
      pins.clearLayers();
      pairs.forEach((p, i) => window.L.circleMarker([p.map[1], p.map[0]], { radius: 7, color: '#fff', weight: 2,
        fillColor: '#ff3bd4', fillOpacity: 0.9, className: 'calib-pin' })
        .bindTooltip(h('span', {}, String(i + 1)), { permanent: true, direction: 'top' }).addTo(pins));
    }
    onChange();
  }

  function setPick(on) {
    picking = on;
    pending = null;
    pick.textContent = on ? t('calib.stop') : t('calib.pick');
    pick.classList.toggle('active', on);
    setPicking(on);
    say(on ? t('calib.click_image') : '');
    redraw();
  }

  function mapPoint(lon, lat) {
    if (!picking) return;
    if (!pending) {
      say(t('calib.click_image'));
      return;
    }
    pairs.push({ image: pending, map: [six(lon), six(lat)] });
    pending = null;
    say(t('calib.added', { n: pairs.length }));
    redraw();
  }

  async function openMap() {
    if (map) {
      map.invalidateSize();
      return;
    }
    loadStyle(LEAFLET_CSS);
    let data;
    try {
      [, data] = await Promise.all([loadScript(LEAFLET), get('/api/map')]);
    } catch (error) {
      mapBox.replaceWith(message(t('error.load', { msg: error.message }), 'error'));
      return;
    }
    if (stopped || map) return;
    const L = window.L;
    map = L.map(mapBox, { attributionControl: false });
    if (data.tile_url) L.tileLayer(data.tile_url, { maxZoom: 22 }).addTo(map);
    const layers = data.layers.filter((l) => l.geojson).map((layer) => L.geoJSON(layer.geojson, {
      style: { color: '#4aa3ff', weight: 2, fillOpacity: 0.06 },
      pointToLayer: (feature, latlng) => L.circleMarker(latlng, { radius: 4 }) }));
    const bounds = L.latLngBounds([]);
    for (const layer of layers) if (layer.getBounds().isValid()) bounds.extend(layer.getBounds());
    // The view first: vector layers added before it can miss their renderer's bounds.
    if (location) map.setView([location[1], location[0]], 18);
    else if (bounds.isValid()) map.fitBounds(bounds);
    else map.setView([0, 0], 2);
    for (const layer of layers) layer.addTo(map);
    if (location) {
      L.circleMarker([location[1], location[0]], { radius: 9, color: '#fff', weight: 2, fillColor: '#00d1b2',
        fillOpacity: 0.9, className: 'camera-marker' }).bindTooltip(h('span', {}, t('calib.camera'))).addTo(map);
    }
    pins = L.layerGroup().addTo(map);
    if (canEdit) map.on('click', (e) => mapPoint(e.latlng.lng, e.latlng.lat));
    redraw();
  }

  pick.addEventListener('click', () => setPick(!picking));
  save.addEventListener('click', async () => {
    save.disabled = true;
    try {
      const saved = await zoneapi.saveCalibration(cameraId, pairs);
      setPick(false);
      say(t('calib.saved', { version: saved.version }));
      onSaved();
    } catch (error) {
      const why = error.fields.map((f) => reason(f.msg)).join('；') || error.message;
      say(t('calib.refused', { msg: why }), true);
    } finally {
      save.disabled = false;
    }
  });

  const element = h('details', { class: 'panel calibration', id: 'calibration' },
    h('summary', {}, t('calib.title')),
    h('p', { class: 'notice' }, t('calib.explain')),
    canEdit ? h('div', { class: 'buttons' }, pick, save) : null,
    status,
    h('div', { class: 'calib-grid' }, mapBox, list));
  element.addEventListener('toggle', () => {
    if (element.open) openMap();
    else if (picking) setPick(false);
    onChange(); // the pins show on the picture while the section is open
  });

  if (calibrated) { // the zone set has a homography: there are pairs to show (else the API would answer 404)
    zoneapi.calibration(cameraId).then((row) => {
      pairs = row.pairs.map((p) => ({ image: p.image, map: p.map }));
      redraw();
    }).catch((error) => say(t('error.load', { msg: error.message }), true));
  }
  redraw();

  return {
    element,
    pins: () => (element.open ? pairs.map((p) => p.image) : []),
    pending: () => pending,
    imagePoint(point) {
      if (!picking) return;
      pending = point;
      say(t('calib.click_map'));
      onChange();
    },
    stop() {
      stopped = true;
      if (map) map.remove();
    },
  };
}
