// The dashboard shell: login, the header, hash routing between the views, and the clock that ages times.

import * as api from './api.js';
import { h, refreshAges } from './dom.js';
import { applyStatic, lang, onLangChange, setLang, t } from './i18n.js';
import { feed, isAlarm, muted, resetLive, setMuted, unlockAudio } from './live.js';
import * as live from './live.js';
import * as cases from './cases.js';
import * as kase from './case.js';
import * as cameras from './cameras.js';
import * as map from './map.js';
import * as figures from './figures.js';
import * as zones from './zones.js';

// #/live, #/cases?status=new, #/cases/12, #/cameras, #/cameras/cam-1/zones, #/map, #/figures
const ROUTES = [
  { pattern: /^\/live$/, view: live, nav: 'live' },
  { pattern: /^\/cases$/, view: cases, nav: 'cases' },
  { pattern: /^\/cases\/(?<id>\d+)$/, view: kase, nav: 'cases' },
  { pattern: /^\/cameras$/, view: cameras, nav: 'cameras' },
  { pattern: /^\/cameras\/(?<id>[A-Za-z0-9_.-]{1,64})\/zones$/, view: zones, nav: 'cameras' },
  { pattern: /^\/map$/, view: map, nav: 'map' },
  { pattern: /^\/figures$/, view: figures, nav: 'figures' },
];

const $ = (id) => document.getElementById(id);
let unmount = null;
let expiry = null;

function parseHash() {
  const raw = window.location.hash.replace(/^#/, '') || '/live';
  const [path, search = ''] = raw.split('?');
  for (const route of ROUTES) {
    const match = route.pattern.exec(path);
    if (match) return { ...route, params: match.groups || {}, query: new URLSearchParams(search) };
  }
  return null;
}

function show() {
  if (!api.session()) return;
  const route = parseHash();
  if (!route) {
    window.location.replace('#/live');
    return;
  }
  if (unmount) unmount();
  unmount = null;
  const section = h('section', { class: `page page-${route.nav}` });
  $('view').replaceChildren(section);
  for (const link of document.querySelectorAll('.nav a')) {
    link.classList.toggle('active', link.dataset.view === route.nav);
    if (route.nav === 'live') link.classList.remove('alerting');
  }
  try {
    unmount = route.view.mount(section, route) || null;
  } catch (error) {
    console.error(error);
    section.append(h('p', { class: 'error', role: 'alert' }, t('error.load', { msg: error.message })));
  }
}

function header(current) {
  $('user-name').textContent = current.username;
  $('user-role').textContent = `${t('header.role')}: ${t(`role.${current.role}`)}`;
  $('user-role').dataset.role = current.role;
  $('mute').textContent = muted() ? t('header.unmute') : t('header.mute');
  $('mute').classList.toggle('is-muted', muted());
  $('mute').setAttribute('aria-pressed', String(muted()));
}

function start(current) {
  $('login').hidden = true;
  $('shell').hidden = false;
  header(current);
  clearTimeout(expiry);
  // A token is good for a shift; at its end the login form comes back by itself.
  expiry = setTimeout(() => stop(t('login.expired')), Math.max(0, current.expires_at - Date.now()));
  feed.start();
  show();
}

function stop(reason) {
  clearTimeout(expiry);
  feed.stop();
  if (unmount) unmount();
  unmount = null;
  resetLive();
  $('view').replaceChildren();
  $('shell').hidden = true;
  $('login').hidden = false;
  const error = $('login-error');
  error.hidden = !reason;
  error.textContent = reason || '';
  $('login-password').value = '';
  $('login-username').focus();
}

async function onLogin(event) {
  event.preventDefault();
  unlockAudio(); // the login click is the gesture browsers want before they play a sound
  const button = $('login-submit');
  const error = $('login-error');
  button.disabled = true;
  button.textContent = t('login.busy');
  error.hidden = true;
  try {
    const current = await api.login($('login-username').value.trim(), $('login-password').value);
    $('login-password').value = '';
    start(current);
  } catch (problem) {
    error.textContent = problem.detail || problem.message || t('error.network');
    error.hidden = false;
  } finally {
    button.disabled = false;
    button.textContent = t('login.submit');
  }
}

function init() {
  document.documentElement.lang = lang() === 'zh' ? 'zh-CN' : 'en-GB';
  applyStatic();
  $('login-form').addEventListener('submit', onLogin);
  for (const button of document.querySelectorAll('.lang-toggle')) {
    button.addEventListener('click', () => setLang(lang() === 'zh' ? 'en' : 'zh'));
  }
  onLangChange(() => {
    applyStatic();
    const current = api.session();
    if (current && !$('shell').hidden) {
      header(current);
      show(); // the view draws itself again in the new language
    }
  });
  $('mute').addEventListener('click', () => {
    setMuted(!muted());
    unlockAudio();
    header(api.session() || { username: '', role: 'viewer' });
  });
  $('logout').addEventListener('click', async () => {
    await api.logout();
    stop();
  });
  // Any click also unlocks sound after a reload (the login click only counts once).
  document.addEventListener('pointerdown', unlockAudio, { once: true });
  feed.onState((state) => {
    const dot = $('feed-dot');
    dot.className = `feed-dot feed-${state}`;
    dot.title = t(`feed.${state}`);
  });
  feed.expired = () => stop(t('login.expired'));
  // A loud alert while another view is open: the live tab flashes until it is looked at (the sound plays anyway).
  feed.on((change) => {
    const live = document.querySelector('.nav a[data-view=live]');
    if (isAlarm(change) && !live.classList.contains('active')) live.classList.add('alerting');
  });
  api.onUnauthorised(() => stop(t('login.expired')));
  window.addEventListener('hashchange', show);
  setInterval(() => refreshAges(), 5000);

  const current = api.session();
  if (current) start(current);
  else stop();
}

init();
