// Building the page from data without ever parsing server text as HTML: text goes in as text nodes.

import { fmtAge, t } from './i18n.js';

/**
 * h('a', {class: 'x', href: '#/cases/1', onclick: fn}, 'text', child, [more]) → an element.
 * Strings become text nodes; null, undefined and false are skipped; arrays are flattened.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (name === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (name === 'style' && typeof value === 'object') {
      Object.assign(el.style, value);
    } else if (name in el && typeof value !== 'string') {
      el[name] = value; // checked, disabled, value, hidden...
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

/** A relative time that the app's ticker keeps fresh ("3 分钟前"); the full time is in the tooltip. */
export function age(iso, cls = 'age') {
  const el = h('time', { class: cls, datetime: iso || '', dataset: { age: iso || '' } }, fmtAge(iso));
  if (iso) el.title = new Date(iso).toLocaleString();
  return el;
}

export function refreshAges(root = document) {
  const now = Date.now();
  for (const el of root.querySelectorAll('[data-age]')) {
    if (el.dataset.age) el.textContent = fmtAge(el.dataset.age, now);
  }
}

/** Only same-origin paths from the API (evidence, snapshots) become image sources: nothing from elsewhere. */
export function localUrl(url) {
  return typeof url === 'string' && url.startsWith('/') && !url.startsWith('//') ? url : null;
}

/** An evidence picture, or a placeholder saying there is none. */
export function picture(url, alt, cls = 'evidence', emptyText = t('case.no_evidence'), fallbackUrl = null) {
  const src = localUrl(url) || localUrl(fallbackUrl);
  if (!src) return h('div', { class: `${cls} placeholder` }, emptyText);
  const img = h('img', { class: cls, src, alt: alt || '', loading: 'lazy', decoding: 'async' });
  const fallback = localUrl(fallbackUrl);
  img.addEventListener('error', () => {
    // A thumbnail missing (evidence from before thumbnails): show the full picture instead, once.
    if (fallback && img.getAttribute('src') !== fallback) img.setAttribute('src', fallback);
    else img.replaceWith(h('div', { class: `${cls} placeholder` }, emptyText));
  });
  return img;
}

export function message(text, cls = 'notice') {
  return h('p', { class: cls, role: cls === 'error' ? 'alert' : null }, text);
}

/** Call `fn` at most once per `ms`, after the last call in a burst (live changes arrive in bursts). */
export function debounce(fn, ms) {
  let timer = null;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}

/** Load a vendored UMD script once (Leaflet, Chart.js), only when a view needs it. */
const loaded = new Map();
export function loadScript(src) {
  if (!loaded.has(src)) {
    loaded.set(src, new Promise((resolve, reject) => {
      const el = h('script', { src });
      el.addEventListener('load', resolve, { once: true });
      el.addEventListener('error', () => {
        loaded.delete(src);
        reject(new Error(`${src} could not be loaded: run the web build (./dev.sh demo does it)`));
      }, { once: true });
      document.head.append(el);
    }));
  }
  return loaded.get(src);
}

export function loadStyle(href) {
  if (!document.querySelector(`link[data-href="${href}"]`)) {
    document.head.append(h('link', { rel: 'stylesheet', href, dataset: { href } }));
  }
}
