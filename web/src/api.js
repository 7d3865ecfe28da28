// Talking to the case API: the login session, JSON requests with the bearer token, and what a 401 means.
//
// The token lives in sessionStorage (gone when the tab closes) and goes in the Authorization header of
// every request, never in a URL. Login also sets an HttpOnly cookie that the API accepts for reads only:
// that is what lets <img> and EventSource, which cannot send headers, load evidence and the live feed.

const KEY = 'streetwatch.session';

export class ApiError extends Error {
  constructor(status, detail, fields = []) {
    super(detail);
    this.status = status;
    this.detail = detail;
    this.fields = fields; // a 422's [{loc: [...], msg}] as FastAPI sent them, to show beside each field
  }
}

let unauthorised = () => {};

/** What to do when the API says the session is gone (401): the app shows the login form. */
export function onUnauthorised(handler) {
  unauthorised = handler;
}

export function session() {
  try {
    const value = JSON.parse(sessionStorage.getItem(KEY) || 'null');
    if (value && value.token && value.expires_at > Date.now()) return value;
  } catch {
    // a damaged entry is the same as none
  }
  return null;
}

function forget() {
  sessionStorage.removeItem(KEY);
}

/** FastAPI's `detail`: a message, or for a 422 a list of {loc, msg}. */
function detailOf(status, body) {
  const detail = body && body.detail;
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail)) return detail.map((d) => `${(d.loc || []).slice(1).join('.')}: ${d.msg}`).join('; ');
  return `HTTP ${status}`;
}

async function parse(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { detail: text.slice(0, 300) };
  }
}

/**
 * One request with the session's token. `json`: a JSON body; `form`: a FormData (multipart, the browser writes
 * the boundary) or a plain object (sent url-encoded). Resolves to the parsed body; rejects with an ApiError.
 */
export async function request(method, path, { params, json, form, headers: extra } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(params || {})) {
    for (const one of Array.isArray(value) ? value : [value]) {
      if (one !== null && one !== undefined && one !== '') url.searchParams.append(name, String(one));
    }
  }
  const headers = { Accept: 'application/json', ...(extra || {}) };
  const current = session();
  if (current) headers.Authorization = `Bearer ${current.token}`;
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form instanceof FormData ? form : new URLSearchParams(form);
  }
  let response;
  try {
    response = await fetch(url, { method, headers, body, credentials: 'same-origin', cache: 'no-store' });
  } catch (error) {
    throw new ApiError(0, error.message || 'network error');
  }
  const data = await parse(response);
  if (response.status === 401 && current) {
    forget();
    unauthorised(detailOf(401, data));
  }
  if (!response.ok) {
    const fields = response.status === 422 && data && Array.isArray(data.detail) ? data.detail : [];
    throw new ApiError(response.status, detailOf(response.status, data), fields);
  }
  return data;
}

export const get = (path, params) => request('GET', path, { params });
export const post = (path, json) => request('POST', path, { json });

/** Log in with the OAuth2 password form; keeps the token for this tab and returns the session. */
export async function login(username, password) {
  forget();
  const data = await request('POST', '/api/auth/token', { form: { username, password } });
  const value = {
    token: data.access_token,
    username: data.username,
    role: data.role,
    expires_at: Date.now() + (data.expires_in || 3600) * 1000,
  };
  sessionStorage.setItem(KEY, JSON.stringify(value));
  return value;
}

/** Ask the API to drop the cookie, then forget the token whatever the answer. */
export async function logout() {
  try {
    if (session()) await request('POST', '/api/auth/logout');
  } catch {
    // an expired session is logged out already
  } finally {
    forget();
  }
}

/** Whether the browser's cookie (what EventSource and images use) still logs us in. */
export async function cookieValid() {
  try {
    const response = await fetch('/api/auth/me', { credentials: 'same-origin', cache: 'no-store' });
    return response.status !== 401;
  } catch {
    return true; // the network, not the session: keep trying
  }
}
