// A zone on the client: the kinds and the classes each watches by default (zones/classes.py KIND_CLASSES is
// the one table; this mirrors it), and the one canonical form that is compared, to find what changed, and sent.

export const KINDS = ['school', 'hospital', 'no_parking', 'no_vending', 'shop_front', 'bin_area', 'road', 'general'];
export const CLASS_IDS = [
  'illegal_parking_motor', 'illegal_parking_nonmotor', 'street_vending', 'outside_store_business',
  'exposed_garbage', 'overflowing_bin', 'standing_water',
];
const PARKING = ['illegal_parking_motor', 'illegal_parking_nonmotor'];
export const KIND_CLASSES = {
  school: CLASS_IDS, hospital: CLASS_IDS, general: CLASS_IDS,
  no_parking: PARKING,
  no_vending: ['street_vending'],
  shop_front: ['outside_store_business', 'street_vending'],
  bin_area: ['exposed_garbage', 'overflowing_bin'],
  road: ['standing_water', 'exposed_garbage', 'street_vending', ...PARKING],
};
export const PRIORITIES = ['high', 'normal', 'low'];
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
export const OVERRIDE_FIELDS = ['dwell_s', 'clear_s', 'min_confidence', 'min_area'];
export const ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

const round = (value) => Math.round(Number(value) * 10000) / 10000;
const hhmm = (value) => String(value || '').slice(0, 5);
const present = (value) => value !== null && value !== undefined && value !== '';

/** The zone as the API takes it: defaults left out, times as HH:MM, classes in the table's order. */
export function canonical(zone) {
  const out = { id: zone.id, kind: zone.kind, polygon: (zone.polygon || []).map(([x, y]) => [round(x), round(y)]) };
  if (present(zone.name)) out.name = zone.name;
  out.classes = CLASS_IDS.filter((c) => (zone.classes || []).includes(c));
  if (present(zone.priority)) out.priority = zone.priority;
  if (present(zone.grid)) out.grid = zone.grid;
  out.overrides = {};
  for (const cls of CLASS_IDS) {
    const given = (zone.overrides || {})[cls];
    if (!given) continue;
    const kept = Object.fromEntries(OVERRIDE_FIELDS.filter((f) => present(given[f])).map((f) => [f, Number(given[f])]));
    if (Object.keys(kept).length) out.overrides[cls] = kept;
  }
  out.schedule = (zone.schedule || []).map((w) => ({
    days: WEEKDAYS.filter((d) => (w.days || []).includes(d)), start: hhmm(w.start), end: hhmm(w.end),
  }));
  return out;
}

export function sameZone(a, b) {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** A deep copy to edit, so the saved zone stays as the server sent it. */
export function copy(zone) {
  return JSON.parse(JSON.stringify(zone));
}

export function newZone(id, polygon) {
  return { id, name: '', kind: 'no_parking', polygon, classes: [...KIND_CLASSES.no_parking], priority: null,
    grid: null, overrides: {}, schedule: [] };
}

/** The first `zone-N` that no zone uses yet. */
export function freeId(taken) {
  for (let n = 1; ; n += 1) if (!taken.has(`zone-${n}`)) return `zone-${n}`;
}

/** FastAPI's 422 location of a zone body (["body", "schedule", 0, "end"]): the form field and the rest. */
export function fieldOf(loc, skip = 1) {
  const path = (loc || []).slice(skip);
  return { field: path.length ? String(path[0]) : '', rest: path.slice(1).join('.') };
}

/** Pydantic prefixes its messages ("Value error, ..."): the reason alone reads better beside a field. */
export function reason(msg) {
  return String(msg || '').replace(/^Value error, /, '');
}
