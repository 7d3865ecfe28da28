// 实时告警: the live feed (Server-Sent Events from /api/live), the alarm, and the live alert view.

import { cookieValid, get } from './api.js';
import { age, clear, h, message, picture } from './dom.js';
import { className, label, t } from './i18n.js';

const LOUD = new Set(['high', 'urgent']);
const MAX_ITEMS = 100;
const MUTE_KEY = 'streetwatch.muted';
const FLASH_MS = 30000; // a loud alert flashes this long, then stays marked

// ---------------------------------------------------------------- the alarm (WebAudio, no sound file)

let audio = null;

/** Browsers only allow sound after a user gesture: the login click (or any first click) calls this. */
export function unlockAudio() {
  try {
    audio = audio || new AudioContext();
    if (audio.state === 'suspended') audio.resume();
  } catch {
    audio = null; // no WebAudio: the flash still shows
  }
}

export function muted() {
  return localStorage.getItem(MUTE_KEY) === '1';
}

export function setMuted(value) {
  localStorage.setItem(MUTE_KEY, value ? '1' : '0');
}

function beep() {
  if (muted() || !audio || audio.state !== 'running') return;
  const start = audio.currentTime;
  for (const [offset, pitch] of [[0, 880], [0.22, 660], [0.44, 880]]) {
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.type = 'square';
    tone.frequency.value = pitch;
    gain.gain.setValueAtTime(0.0001, start + offset);
    gain.gain.exponentialRampToValueAtTime(0.2, start + offset + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.18);
    tone.connect(gain).connect(audio.destination);
    tone.start(start + offset);
    tone.stop(start + offset + 0.2);
  }
}

/** A change that should make the wall screen call for attention. */
export function isAlarm(change) {
  const kase = change.case || {};
  if (!LOUD.has(kase.priority)) return false;
  // A new alert, one past its deadline, or one the camera saw is still there after it was marked resolved.
  return change.kind === 'created' || change.kind === 'escalated'
    || (change.actor === 'camera' && kase.status === 'reopened');
}

// ---------------------------------------------------------------- the feed connection

/**
 * One EventSource for the whole app. EventSource reconnects by itself, sending Last-Event-ID, so the
 * server replays what was missed. A refused connection (401, or the server gone for good) closes it:
 * then the cookie is checked, and either the login form comes back or a fresh connection is made and
 * every view reloads (a fresh connection starts from now, so a view's data may have gaps otherwise).
 */
class Feed {
  constructor() {
    this.listeners = new Set();
    this.stateListeners = new Set();
    this.seen = new Set();
    this.order = [];
    this.source = null;
    this.state = 'connecting';
    this.lastId = null;
    this.retry = null;
    this.backoff = 1000;
    this.expired = () => {};
  }

  on(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onState(listener) {
    this.stateListeners.add(listener);
    listener(this.state);
    return () => this.stateListeners.delete(listener);
  }

  setState(state) {
    this.state = state;
    for (const listener of this.stateListeners) listener(state);
  }

  start() {
    this.stop();
    const source = new EventSource('/api/live');
    this.source = source;
    this.setState('connecting');
    source.addEventListener('open', () => {
      this.backoff = 1000;
      this.setState('connected');
    });
    source.addEventListener('hello', (event) => {
      this.lastId = event.lastEventId;
    });
    source.addEventListener('change', (event) => {
      this.lastId = event.lastEventId;
      let change;
      try {
        change = JSON.parse(event.data);
      } catch {
        return;
      }
      if (!this.remember(change.change_id)) return;
      this.emit(change);
    });
    source.addEventListener('reset', () => this.emit({ kind: 'reset' }));
    source.addEventListener('error', () => {
      if (this.source !== source) return;
      if (source.readyState === EventSource.CLOSED) {
        this.setState('reconnecting');
        this.recover();
      } else {
        this.setState('reconnecting'); // EventSource retries by itself, with Last-Event-ID
      }
    });
  }

  async recover() {
    this.stop();
    if (!(await cookieValid())) {
      this.expired();
      return;
    }
    this.retry = setTimeout(() => {
      this.start();
      this.emit({ kind: 'reset' });
    }, this.backoff);
    this.backoff = Math.min(this.backoff * 2, 30000);
  }

  stop() {
    clearTimeout(this.retry);
    if (this.source) this.source.close();
    this.source = null;
  }

  /** True the first time a change id is seen: the relay may send a change twice, the view shows it once. */
  remember(changeId) {
    if (changeId === undefined || changeId === null) return true;
    if (this.seen.has(changeId)) return false;
    this.seen.add(changeId);
    this.order.push(changeId);
    if (this.order.length > 5000) this.seen.delete(this.order.shift());
    return true;
  }

  emit(change) {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        console.error('live listener failed', error); // one broken view must not stop the others
      }
    }
  }
}

export const feed = new Feed();

// ---------------------------------------------------------------- the alerts kept for the view

const items = new Map(); // case id → {case, kind, at, alarm}
let loaded = false;
let renderItem = null; // set while the view is mounted

function keep(entry) {
  items.delete(entry.case.id);
  items.set(entry.case.id, entry);
  while (items.size > MAX_ITEMS) items.delete(items.keys().next().value);
}

feed.on((change) => {
  if (change.kind === 'reset') {
    loaded = false;
    return;
  }
  if (!change.case || change.case.id === undefined) return;
  const known = items.get(change.case.id);
  if (known && new Date(change.case.updated_at) < new Date(known.case.updated_at)) return; // a replay, behind us
  const alarm = isAlarm(change);
  const flashUntil = alarm ? Date.now() + FLASH_MS : 0;
  const entry = { case: change.case, kind: change.kind, at: change.at, alarm, flashUntil };
  keep(entry);
  if (alarm) beep();
  if (renderItem) renderItem(entry);
});

async function loadRecent() {
  const page = await get('/api/cases', { sort: '-updated_at', page_size: 40 });
  const recent = page.items.slice().reverse(); // oldest first, so the newest ends on top
  for (const kase of recent) {
    const known = items.get(kase.id);
    // After a reconnect the list may be behind: a newer state from the server replaces what the feed left.
    if (!known || new Date(known.case.updated_at) < new Date(kase.updated_at)) {
      keep({ case: kase, kind: 'loaded', at: kase.updated_at, alarm: false, flashUntil: 0 });
    }
  }
  loaded = true;
}

export function resetLive() {
  items.clear();
  loaded = false;
}

// ---------------------------------------------------------------- the view

export function zoneBadge(kind) {
  const important = kind === 'school' || kind === 'hospital';
  return h('span', { class: `zone-kind zone-${kind}${important ? ' key-zone' : ''}` }, label('zone', kind));
}

export function statusBadge(status) {
  return h('span', { class: `status status-${status}` }, label('status', status));
}

export function priorityBadge(priority) {
  return h('span', { class: `priority priority-${priority}` }, label('priority', priority));
}

export function flags(kase) {
  return [
    kase.overdue ? h('span', { class: 'flag flag-overdue' }, t('flag.overdue')) : null,
    kase.escalated ? h('span', { class: 'flag flag-escalated' }, t('flag.escalated')) : null,
  ];
}

function card(entry) {
  const kase = entry.case;
  const important = kase.zone_kind === 'school' || kase.zone_kind === 'hospital';
  const classes = ['alert', `alert-priority-${kase.priority}`];
  if (important) classes.push('alert-key-zone');
  if (entry.alarm) classes.push('alert-loud');
  if (entry.flashUntil > Date.now()) classes.push('alert-flash');
  return h('a', { class: classes.join(' '), href: `#/cases/${kase.id}`, dataset: { caseId: String(kase.id) } },
    picture(kase.thumbnail_url, className(kase), 'thumb', undefined, kase.evidence_url),
    h('div', { class: 'alert-body' },
      h('div', { class: 'alert-head' },
        h('span', { class: 'alert-class' }, className(kase)),
        priorityBadge(kase.priority),
        statusBadge(kase.status),
        flags(kase)),
      h('div', { class: 'alert-where' },
        zoneBadge(kase.zone_kind),
        h('span', { class: 'zone-name' }, kase.zone_name || kase.zone_id),
        h('span', { class: 'alert-camera' }, `${t('case.camera')} ${kase.camera_id}`)),
      h('div', { class: 'alert-meta' },
        h('span', { class: 'case-id' }, `#${kase.id}`),
        age(kase.created_at),
        entry.kind && entry.kind !== 'loaded'
          ? h('span', { class: `change change-${entry.kind}` }, label('kind', entry.kind), ' · ', age(entry.at))
          : null),
      // Why it fired, first reason only ("分割 segmenter: 积水 water 55% of zone"); the case view lists them all.
      kase.reasons && kase.reasons.length ? h('div', { class: 'alert-reason' }, kase.reasons[0]) : null));
}

export function mount(root) {
  const list = h('div', { class: 'alert-list', id: 'alert-list' });
  const count = h('span', { class: 'count' });
  const status = h('span', { class: 'feed-state' });
  root.append(h('div', { class: 'view-head' }, h('h1', {}, t('live.title')), count, status), list);

  const update = () => {
    count.textContent = t('live.count', { n: items.size });
    if (!items.size && !list.querySelector('.notice')) list.append(message(t('live.empty')));
  };
  const draw = () => {
    clear(list);
    for (const entry of [...items.values()].reverse()) list.append(card(entry));
    update();
  };
  renderItem = (entry) => {
    list.querySelector('.notice')?.remove();
    list.querySelector(`[data-case-id="${entry.case.id}"]`)?.remove();
    list.prepend(card(entry));
    while (list.children.length > MAX_ITEMS) list.lastElementChild.remove();
    update();
  };
  const offState = feed.onState((state) => {
    status.textContent = t(`feed.${state}`);
    status.className = `feed-state feed-${state}`;
  });
  const reload = async () => {
    try {
      await loadRecent();
      draw();
    } catch (error) {
      clear(list).append(message(t('error.load', { msg: error.message }), 'error'));
    }
  };
  const offReset = feed.on((change) => {
    if (change.kind === 'reset') reload();
  });
  if (loaded) draw();
  else reload();
  return () => {
    renderItem = null;
    offState();
    offReset();
  };
}
