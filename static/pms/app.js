// Entry point of the demo W3 Hotel PMS: header user, nav, hash routing (#/guests, #/settings/backups …).
import { h, clear } from './dom.js';
import { MODULES, MODULE_ORDER } from './modules.js';
import { spark, read, readAll, cached, invalidate } from './store.js';
import { renderList } from './table.js';
import { renderDashboard, renderSettings } from './views.js';
import { toast } from './ui.js';

const view = document.getElementById('pms-view');
let user = null;
let renderToken = 0;
let currentRoute = '';
let backstaySection = null; // created once, re-attached each time the backups page is shown

const indexCache = new WeakMap(); // array -> Map(id -> record)
function byId(arr) {
  if (!arr) return new Map();
  let m = indexCache.get(arr);
  if (!m) {
    m = new Map();
    for (const r of arr) if (r && r.id !== undefined) m.set(r.id, r);
    indexCache.set(arr, m);
  }
  return m;
}

function parseRoute() {
  const parts = (location.hash || '').replace(/^#\/?/, '').split('/').filter(Boolean);
  return parts.length ? parts.join('/') : 'dashboard';
}

function markNav(route) {
  const top = route.split('/')[0];
  for (const a of document.querySelectorAll('.pms-nav a')) {
    if (a.dataset.route === top) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function showError(message, retry) {
  clear(view).append(h('div', { class: 'panel error-panel', role: 'alert', 'data-testid': 'load-error' },
    h('h2', {}, 'Something went wrong'), h('p', {}, message),
    h('button', { type: 'button', class: 'btn btn-primary', onclick: retry }, 'Try again')));
}

function done(route) {
  document.body.dataset.view = route;
}

async function render() {
  const route = parseRoute();
  const token = ++renderToken;
  if (currentRoute === 'settings/backups' && route !== 'settings/backups') {
    // Backstay may have restored a version while its panel was open: read fresh data.
    invalidate();
  }
  currentRoute = route;
  markNav(route);
  delete document.body.dataset.view;
  const stale = () => token !== renderToken;
  try {
    if (route === 'dashboard') {
      if (MODULE_ORDER.some((n) => !cached(MODULES[n].key))) clear(view).append(h('p', { class: 'muted loading' }, 'Loading dashboard…'));
      const arrays = await readAll(MODULE_ORDER.map((n) => MODULES[n].key));
      if (stale()) return;
      const data = Object.fromEntries(MODULE_ORDER.map((n, i) => [n, arrays[i]]));
      renderDashboard(view, data, {
        onRefresh: () => { invalidate(); render(); },
        onSampleLoaded: () => { if (parseRoute() === 'dashboard') render(); },
      });
    } else if (MODULES[route]) {
      const mod = MODULES[route];
      const keys = [mod.key, ...(mod.needs || []).map((n) => MODULES[n].key)];
      if (keys.some((k) => !cached(k))) clear(view).append(h('p', { class: 'muted loading' }, `Loading ${mod.title.toLowerCase()}…`));
      await readAll(keys);
      if (stale()) return;
      renderList(view, route, mod, makeCtx());
    } else if (route === 'settings') {
      renderSettings(view, user, () => {});
    } else if (route === 'settings/backups') {
      showBackups();
    } else {
      clear(view).append(h('div', { class: 'panel' }, h('h1', {}, 'Page not found'), h('p', {}, h('a', { href: '#/dashboard' }, 'Back to the dashboard'))));
    }
    done(route);
  } catch (e) {
    if (stale()) return;
    console.error(e);
    showError(e.message || String(e), () => render());
    toast(e.message || String(e), 'error');
    done(route);
  }
}

function makeCtx() {
  const ctx = {
    user,
    guests: cached(MODULES.guests.key) || [],
    rooms: cached(MODULES.rooms.key) || [],
  };
  ctx.guestById = byId(ctx.guests);
  ctx.roomById = byId(ctx.rooms);
  ctx.onChange = (key, arr) => {
    if (key === MODULES.guests.key) { ctx.guests = arr; ctx.guestById = byId(arr); }
    if (key === MODULES.rooms.key) { ctx.rooms = arr; ctx.roomById = byId(arr); }
  };
  return ctx;
}

function showBackups() {
  if (!backstaySection) {
    backstaySection = h('section', { id: 'backstay-panel', 'data-testid': 'backstay-panel' });
  }
  clear(view).append(
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/settings' }, 'Settings'), ' › System › ', h('span', {}, 'Version Control & Backups')),
    h('div', { class: 'page-head' }, h('h1', {}, 'Version Control & Backups')),
    backstaySection);
  window.dispatchEvent(new CustomEvent('backstay:panel-open', { detail: { container: backstaySection } }));
}

/** Only same-origin images: the page must make no request outside its own origin. */
function sameOrigin(url) {
  try {
    return !!url && new URL(url, location.href).origin === location.origin;
  } catch (e) {
    return false;
  }
}

async function showUser() {
  const el = document.getElementById('pms-user');
  try {
    const s = await spark();
    user = await s.user();
    if (!user) throw new Error('no user');
    clear(el).append(
      sameOrigin(user.avatarUrl)
        ? h('img', { class: 'avatar', src: user.avatarUrl, alt: '' })
        : h('span', { class: 'avatar', 'aria-hidden': 'true' }, String(user.login || '?').slice(0, 2).toUpperCase()),
      h('span', { class: 'user-text' },
        h('strong', { 'data-testid': 'user-login' }, user.login || 'unknown'),
        h('small', {}, [user.email, user.isOwner ? 'owner' : null].filter(Boolean).join(' · '))));
  } catch (e) {
    el.textContent = 'Not signed in';
  }
}

// Backstay (or anything else) can tell us the store changed behind our back, e.g. after a restore.
for (const name of ['backstay:restored', 'backstay:data-changed', 'pms:invalidate']) {
  window.addEventListener(name, (event) => {
    event.preventDefault(); // handled: we read the data again (no reload prompt needed)
    invalidate();
    if (currentRoute !== 'settings/backups') render();
  });
}

window.addEventListener('hashchange', render);
showUser();
render();
