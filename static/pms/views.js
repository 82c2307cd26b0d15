// Dashboard and Settings pages.
import { h, clear, fmtMoney } from './dom.js';
import { MODULES, MODULE_ORDER, ROOM_STATUSES, RESERVATION_STATUSES } from './modules.js';
import { sampleControls } from './sample.js';

function countBy(arr, field, order) {
  const m = new Map(order.map((k) => [k, 0]));
  for (const r of arr) {
    const v = (r && r[field]) || 'unknown';
    m.set(v, (m.get(v) || 0) + 1);
  }
  return m;
}

function bars(counts, total, testid) {
  return h('div', { class: 'bars', 'data-testid': testid }, [...counts].map(([k, n]) => h('div', { class: 'bar-row', 'data-key': k },
    h('span', { class: `badge badge-${k}` }, k),
    h('div', { class: 'bar' }, h('div', { class: `bar-fill fill-${k}`, style: `width:${total ? (100 * n / total).toFixed(1) : 0}%` })),
    h('span', { class: 'num' }, n.toLocaleString()))));
}

/** data: {guests, reservations, rooms, invoices} arrays. */
export function renderDashboard(root, data, { onRefresh, onSampleLoaded }) {
  const { rooms, reservations, invoices } = data;
  const roomCounts = countBy(rooms, 'status', ROOM_STATUSES);
  const occupied = (roomCounts.get('occupied-clean') || 0) + (roomCounts.get('occupied-dirty') || 0);
  const sellable = rooms.length - (roomCounts.get('out-of-order') || 0) - (roomCounts.get('maintenance') || 0);
  const pct = sellable > 0 ? Math.round((100 * occupied) / sellable) : 0;
  let openBalance = 0;
  for (const inv of invoices) if (inv && inv.status === 'issued') openBalance += Number(inv.total) || 0;

  clear(root).append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Dashboard'), h('div', { class: 'spacer' }),
      h('button', { type: 'button', class: 'btn', onclick: onRefresh, title: 'Read all modules from the store again' }, 'Refresh')),
    h('div', { class: 'cards' },
      MODULE_ORDER.map((name) => h('a', { class: 'card', href: `#/${name}`, 'data-testid': `count-${name}` },
        h('div', { class: 'card-label' }, MODULES[name].title),
        h('div', { class: 'card-value' }, data[name].length.toLocaleString()))),
      h('div', { class: 'card', 'data-testid': 'occupancy' },
        h('div', { class: 'card-label' }, 'Occupancy'),
        h('div', { class: 'card-value' }, `${pct}%`),
        h('div', { class: 'card-sub' }, `${occupied.toLocaleString()} of ${sellable.toLocaleString()} sellable rooms`))),
    h('div', { class: 'panels' },
      h('section', { class: 'panel' }, h('h2', {}, 'Rooms by status'), rooms.length ? bars(roomCounts, rooms.length, 'rooms-by-status') : h('p', { class: 'muted' }, 'No rooms yet.')),
      h('section', { class: 'panel' }, h('h2', {}, 'Reservations by status'),
        reservations.length ? bars(countBy(reservations, 'status', RESERVATION_STATUSES), reservations.length, 'reservations-by-status') : h('p', { class: 'muted' }, 'No reservations yet.'),
        h('p', { class: 'muted small' }, `Open (issued) invoices: ${fmtMoney(openBalance)}`)),
      h('section', { class: 'panel' }, h('h2', {}, 'Sample data'), sampleControls(onSampleLoaded))));
}

export function renderSettings(root, user, onReload) {
  const section = (title, ...body) => h('section', { class: 'panel settings-section' }, h('h2', {}, title), ...body);
  clear(root).append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Settings')),
    h('div', { class: 'settings' },
      section('Property',
        h('dl', { class: 'kv' }, h('dt', {}, 'Property'), h('dd', {}, 'W3 Hotel (demo)'),
          h('dt', {}, 'Currency'), h('dd', {}, 'USD'), h('dt', {}, 'Time zone'), h('dd', {}, Intl.DateTimeFormat().resolvedOptions().timeZone))),
      section('Users & Access',
        h('dl', { class: 'kv' }, h('dt', {}, 'Signed in as'), h('dd', {}, user ? user.login : '—'),
          h('dt', {}, 'Email'), h('dd', {}, (user && user.email) || '—'),
          h('dt', {}, 'Role'), h('dd', {}, user && user.isOwner ? 'Owner (admin)' : 'User'))),
      section('Data', sampleControls(onReload)),
      h('section', { class: 'panel settings-section', 'data-testid': 'settings-system' }, h('h2', {}, 'System'),
        h('a', { class: 'settings-link', href: '#/settings/backups', 'data-testid': 'open-backups' },
          h('span', { class: 'settings-link-title' }, 'Version Control & Backups'),
          h('span', { class: 'muted small' }, 'Every change is versioned automatically. Browse versions, compare and restore.')))));
}
