// 地图: the configured GeoJSON layers (grids, schools, hospitals), the zones in place (drawn on the map, or a
// calibrated camera's own carried onto it), cameras and open cases, with no tile server.

import { get } from './api.js';
import { classes } from './cases.js';
import { clear, debounce, h, loadScript, loadStyle, message } from './dom.js';
import { className, label, t } from './i18n.js';
import { feed } from './live.js';

const LEAFLET = '/ui/vendor/leaflet/leaflet.js';
const LEAFLET_CSS = '/ui/vendor/leaflet/leaflet.css';

export const PRIORITY_COLOURS = { urgent: '#ff3b3b', high: '#ff9f1a', normal: '#3fa9f5', low: '#8a94a6' };
const KIND_STYLES = {
  grid: { color: '#4aa3ff', weight: 2, dashArray: '6 4', fillColor: '#4aa3ff', fillOpacity: 0.06 },
  school: { color: '#ffb020', weight: 3, fillColor: '#ffb020', fillOpacity: 0.35 },
  hospital: { color: '#ff4d8d', weight: 3, fillColor: '#ff4d8d', fillOpacity: 0.35 },
};
const OTHER_STYLE = { color: '#9aa5b1', weight: 2, fillColor: '#9aa5b1', fillOpacity: 0.15 };

const KEY_KINDS = new Set(['school', 'hospital']);
const kindColours = new Map();

/** A zone kind's colour, as the zone editor draws it: styles.css's `.zk-<kind>` sets --zc, the one table. */
export function kindColour(kind) {
  if (!kindColours.has(kind)) {
    const probe = h('span', { class: `zk zk-${kind}`, hidden: true });
    document.body.append(probe);
    kindColours.set(kind, getComputedStyle(probe).getPropertyValue('--zc').trim() || '#00d1b2');
    probe.remove();
  }
  return kindColours.get(kind);
}

/** Zones are solid where drawn on the map, dashed where a camera's zone is carried onto it; schools and
 * hospitals thicker and more opaque. */
function zoneStyle(feature) {
  const { kind = 'general', source = 'map' } = feature.properties || {};
  const key = KEY_KINDS.has(kind);
  const colour = kindColour(kind);
  return { pane: 'zones', color: colour, fillColor: colour, weight: key ? 4 : 2, opacity: key ? 1 : 0.85,
    fillOpacity: key ? 0.35 : 0.15, dashArray: source === 'camera' ? '7 5' : null,
    className: `map-zone map-zone-${source === 'camera' ? 'camera' : 'map'} zk-${kind}` };
}

function zoneTip(feature, cameraNames) {
  const props = feature.properties || {};
  const camera = props.source === 'camera';
  const id = camera ? props.zone_id : feature.id;
  return h('div', { class: 'map-tip zone-tip', dataset: { zoneId: String(id || '') } },
    h('div', { class: 'zone-tip-name' }, props.name || id || ''),
    h('div', {}, label('zone', props.kind || 'general'), ' · ', t(camera ? 'map.zone.camera_zone' : 'map.zone.map_zone')),
    camera ? h('div', {}, `${t('map.legend.camera')} ${cameraNames.get(props.camera_id) || props.camera_id}`,
      cameraNames.has(props.camera_id) ? ` (${props.camera_id})` : '') : null,
    camera ? h('a', { href: `#/cameras/${encodeURIComponent(props.camera_id)}/zones` }, t('map.zone.edit')) : null);
}

function kindOf(feature, layer) {
  return (feature.properties && feature.properties.kind) || layer.kind || 'area';
}

/** Tooltip content as an element: Leaflet would parse a string as HTML. */
function tip(...lines) {
  return h('div', { class: 'map-tip' }, lines.filter(Boolean).map((line) => h('div', {}, line)));
}

function legend() {
  const swatch = (colour, text, round = false) => h('div', { class: 'legend-row' },
    h('span', { class: `swatch${round ? ' round' : ''}`, style: { background: colour } }), text);
  return h('div', { class: 'map-legend' },
    swatch(KIND_STYLES.grid.color, t('map.legend.grid')),
    swatch(KIND_STYLES.school.color, t('map.legend.school')),
    swatch(KIND_STYLES.hospital.color, t('map.legend.hospital')),
    h('div', { class: 'legend-row' }, h('span', { class: 'swatch zone-swatch-map' }), t('map.zone.map_zone')),
    h('div', { class: 'legend-row' }, h('span', { class: 'swatch zone-swatch-camera' }), t('map.zone.camera_zone')),
    swatch('#00d1b2', t('map.legend.camera'), true),
    h('div', { class: 'legend-row' }, t('map.legend.case')),
    Object.entries(PRIORITY_COLOURS).map(([p, colour]) => swatch(colour, label('priority', p), true)));
}

/** Cases share their camera's position: spread the ones on a camera or on one spot in a small ring around it,
 * so each case and the camera itself can be clicked. */
function spread(cases, cameras) {
  const seen = new Map(cameras.map((camera) => [`${camera.lon},${camera.lat}`, 1]));
  return cases.map((kase) => {
    const key = `${kase.lon},${kase.lat}`;
    const index = seen.get(key) || 0;
    seen.set(key, index + 1);
    if (index === 0) return { kase, lat: kase.lat, lon: kase.lon };
    const ring = 1 + Math.floor((index - 1) / 8);
    const angle = ((index - 1) % 8) * (Math.PI / 4);
    return { kase, lat: kase.lat + 0.00008 * ring * Math.sin(angle), lon: kase.lon + 0.0001 * ring * Math.cos(angle) };
  });
}

export function mount(root) {
  const box = h('div', { class: 'map', id: 'map' });
  const notes = h('div', { class: 'map-notes' });
  root.append(h('div', { class: 'view-head' }, h('h1', {}, t('map.title'))), notes,
    h('div', { class: 'map-wrap' }, box, legend()));
  let map = null;
  let caseLayer = null;
  let stopped = false;
  const names = new Map();

  let cameraSpots = [];
  const drawCases = (L, cases) => {
    caseLayer.clearLayers();
    for (const { kase, lat, lon } of spread(cases, cameraSpots)) {
      caseLayer.addLayer(L.circleMarker([lat, lon], {
        radius: 8, color: '#0b0f14', weight: 2, fillColor: PRIORITY_COLOURS[kase.priority] || '#ccc',
        fillOpacity: 0.95, className: `case-marker priority-${kase.priority}`,
      }).bindTooltip(tip(`#${kase.id} ${names.get(kase.class) || kase.class}`, label('status', kase.status),
        label('priority', kase.priority), t('map.open_case')))
        .on('click', () => { window.location.hash = `#/cases/${kase.id}`; }));
    }
  };

  const load = async () => {
    loadStyle(LEAFLET_CSS);
    let data;
    try {
      const [, payload, classList] = await Promise.all([loadScript(LEAFLET), get('/api/map'), classes()]);
      data = payload;
      for (const c of classList) names.set(c.id, className(c));
    } catch (error) {
      if (!stopped) clear(notes).append(message(t('error.load', { msg: error.message }), 'error'));
      return;
    }
    if (stopped) return;
    const L = window.L;
    map = L.map(box, { zoomControl: true, attributionControl: false, preferCanvas: false });
    // Bottom to top: the configured areas, the zones, then cameras and cases (the overlay pane, 400), so that
    // a grid never hides a zone from the mouse and a zone never hides a case.
    map.createPane('areas').style.zIndex = 380;
    map.createPane('zones').style.zIndex = 390;
    if (data.tile_url) L.tileLayer(data.tile_url, { maxZoom: 22 }).addTo(map);
    const bounds = L.latLngBounds([]);
    for (const layer of data.layers) {
      if (!layer.geojson) {
        notes.append(message(t('map.layer_error', { name: layer.name }), 'error'));
        continue;
      }
      const drawn = L.geoJSON(layer.geojson, {
        pane: 'areas',
        style: (feature) => {
          const kind = kindOf(feature, layer);
          return { ...(KIND_STYLES[kind] || OTHER_STYLE), pane: 'areas', className: `layer-kind-${kind}` };
        },
        pointToLayer: (feature, latlng) => L.circleMarker(latlng, { radius: 5, pane: 'areas' }),
        onEachFeature: (feature, shape) => {
          // Names stay on the map (a wall screen is read, not hovered); a point gets its name on hover.
          const props = feature.properties || {};
          const polygon = feature.geometry && feature.geometry.type !== 'Point';
          shape.bindTooltip(h('span', {}, props.name || layer.name), polygon
            ? { permanent: true, direction: 'center', className: `area-label label-${kindOf(feature, layer)}` }
            : { sticky: true });
        },
      }).addTo(map);
      if (drawn.getBounds().isValid()) bounds.extend(drawn.getBounds());
    }
    const cameraNames = new Map(data.cameras.map((camera) => [camera.id, camera.name || camera.id]));
    const zoneFeatures = (data.zones && data.zones.features) || [];
    const zoneLayer = (source) => L.geoJSON({ type: 'FeatureCollection', features: zoneFeatures.filter(
      (feature) => ((feature.properties || {}).source === 'camera' ? 'camera' : 'map') === source) }, {
      pane: 'zones',
      style: zoneStyle,
      onEachFeature: (feature, shape) => {
        const props = feature.properties || {};
        shape.bindTooltip(h('span', {}, props.name || props.zone_id || feature.id || ''), { sticky: true });
        shape.bindPopup(zoneTip(feature, cameraNames), { className: 'zone-popup' });
      },
    }).addTo(map);
    const mapZones = zoneLayer('map');
    const cameraZones = zoneLayer('camera');
    for (const zones of [mapZones, cameraZones]) if (zones.getBounds().isValid()) bounds.extend(zones.getBounds());
    const cameras = L.layerGroup(data.cameras.map((camera) => L.circleMarker([camera.lat, camera.lon], {
      radius: 10, color: '#ffffff', weight: 2, fillColor: '#00d1b2', fillOpacity: 0.9, className: 'camera-marker',
    }).bindTooltip(tip(camera.name || camera.id, `${t('map.legend.camera')} ${camera.id}`))
      .on('click', () => { window.location.hash = '#/cameras'; })));
    cameras.addTo(map);
    for (const camera of data.cameras) bounds.extend([camera.lat, camera.lon]);
    for (const kase of data.cases) bounds.extend([kase.lat, kase.lon]);
    cameraSpots = data.cameras;
    caseLayer = L.layerGroup().addTo(map);
    drawCases(L, data.cases);
    // Leaflet writes these names as HTML: only our own words go in, never a name from the server.
    L.control.layers(null, {
      [t('map.zone.map_zones')]: mapZones, [t('map.zone.camera_zones')]: cameraZones,
      [t('map.legend.camera')]: cameras, [t('map.layer.cases')]: caseLayer,
    }, { collapsed: false, position: 'topright' }).addTo(map);
    if (data.center) map.setView([data.center[1], data.center[0]], data.zoom);
    else if (bounds.isValid()) map.fitBounds(bounds, { padding: [30, 30], maxZoom: 19 });
    else {
      map.setView([0, 0], 2);
      notes.append(message(t('map.no_data')));
    }
  };

  const refreshCases = debounce(async () => {
    if (!map || stopped) return;
    try {
      const data = await get('/api/map');
      if (!stopped) drawCases(window.L, data.cases);
    } catch {
      // the next change tries again
    }
  }, 2000);
  const off = feed.on(() => refreshCases());
  load();
  return () => {
    stopped = true;
    off();
    refreshCases.cancel();
    if (map) map.remove();
  };
}
