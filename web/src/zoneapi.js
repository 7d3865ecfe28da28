// The zone editor's and the labels' requests, through api.js's `request` (the session's token, and a 422's list of
// {loc, msg} kept on the error as `fields`, so that each message can stand beside the field it names).

import { request } from './api.js';

const cam = (cameraId) => `/api/cameras/${encodeURIComponent(cameraId)}`;
const zonePath = (cameraId, zoneId) => `${cam(cameraId)}/zones/${encodeURIComponent(zoneId)}`;
const send = (method, path, json) => request(method, path, json === undefined ? {} : { json });

export const camera = (id) => send('GET', cam(id));
export const zones = (id) => send('GET', `${cam(id)}/zones`);
export const zoneSet = (id) => send('GET', `${cam(id)}/zone-set`);
export const createZone = (id, zone) => send('POST', `${cam(id)}/zones`, zone);
// Saves and deletes name the version they were made on: someone else's save in between is a 412, not undone.
const onTopOf = (version) => (version ? { 'If-Match': `"${version}"` } : {});
export const updateZone = (id, zone, version) => request('PUT', zonePath(id, zone.id),
  { json: zone, headers: onTopOf(version) });
export const deleteZone = (id, zoneId, version) => request('DELETE', zonePath(id, zoneId), { headers: onTopOf(version) });
export const versions = (id, zoneId) => send('GET', `${zonePath(id, zoneId)}/versions`);
export const diff = (id, zoneId, from, to) => request('GET', `${zonePath(id, zoneId)}/diff`, { params: { from, to } });
export const restore = (id, zoneId, version) => send('POST', `${zonePath(id, zoneId)}/versions/${version}/restore`);
export const calibration = (id) => send('GET', `${cam(id)}/calibration`);
export const saveCalibration = (id, pairs) => send('PUT', `${cam(id)}/calibration`, { pairs });
export const whatif = (id, draft, minutes) => send('POST', `${cam(id)}/whatif`, { zones: draft, minutes });
export const whatifJob = (id, jobId) => send('GET', `${cam(id)}/whatif/${encodeURIComponent(jobId)}`);

export function whatifUpload(id, draft, file) {
  const form = new FormData();
  form.append('zones', JSON.stringify(draft));
  form.append('clip', file, file.name);
  return request('POST', `${cam(id)}/whatif/upload`, { form });
}

/** 标注 / a label on the camera's current view (no case) or on a case's clean picture. */
export const addLabel = (id, zoneId, cls, positive, caseId = null) => send('POST', `${zonePath(id, zoneId)}/labels`,
  { class: cls, positive, ...(caseId ? { case_id: caseId } : {}) });
/** The camera's labels (newest first, of one zone when given) and the counts per `zone/class`. */
export const labels = (id, zoneId, limit = 8) => request('GET', `${cam(id)}/labels`,
  { params: { zone_id: zoneId, limit } });

/** Who is logged in, as the API says (the role decides which controls show). */
export const me = () => send('GET', '/api/auth/me');
