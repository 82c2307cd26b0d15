// List view of one module: search box, 50-row pages, per-row Edit/Delete. Never renders all rows.
import { h, clear, debounce } from './dom.js';
import { cached, deleteRecord } from './store.js';
import { openForm } from './form.js';
import { toast, confirmDialog } from './ui.js';

export const PAGE_SIZE = 50;
const listState = new Map();   // module name -> {query, page}; survives navigation
const haystacks = new WeakMap(); // record -> lower-cased search text (records are never mutated in place)

function stateOf(name) {
  if (!listState.has(name)) listState.set(name, { query: '', page: 0 });
  return listState.get(name);
}

/** Records newest first, filtered by the query — lazily: ensure(n) scans only until n matches are
 *  known; scan(ms) continues for a time slice (the full count is finished in the background). */
const sortedCopies = new WeakMap(); // array -> same records in display order (modules with a sort)

function makeView(source, mod, ctx, query) {
  let arr = source;
  if (mod.sort) {
    // Sorted ascending, then reversed so that "newest first" iteration below shows the sort order.
    arr = sortedCopies.get(source);
    if (!arr) {
      arr = source.slice().sort(mod.sort).reverse();
      sortedCopies.set(source, arr);
    }
  }
  const n = arr.length;
  const q = query.trim().toLowerCase();
  if (!q) return { length: n, complete: true, at: (i) => arr[n - 1 - i], ensure() {}, scan() {} };
  const terms = q.split(/\s+/);
  const matches = [];
  let pos = n - 1;
  const view = {
    complete: false,
    get length() { return matches.length; },
    at: (i) => matches[i],
    ensure(need) { run(need, Infinity); },
    scan(ms) { run(Infinity, ms); },
  };
  function run(need, ms) {
    const t0 = performance.now();
    while (pos >= 0 && matches.length < need) {
      const r = arr[pos--];
      if (r && typeof r === 'object') {
        let text = haystacks.get(r);
        if (text === undefined) {
          text = mod.searchText(r, ctx).toLowerCase();
          haystacks.set(r, text);
        }
        let ok = true;
        for (const t of terms) if (!text.includes(t)) { ok = false; break; }
        if (ok) matches.push(r);
      }
      if ((pos & 1023) === 0 && performance.now() - t0 > ms) break;
    }
    if (pos < 0) view.complete = true;
  }
  return view;
}

/** Render the list of module `name` into `root`. ctx: {guests, rooms, guestById, roomById, user}. */
export function renderList(root, name, mod, ctx) {
  const st = stateOf(name);
  let arr = cached(mod.key) || [];
  let view = null;

  const count = h('span', { class: 'muted', 'data-testid': 'record-count' });
  const search = h('input', { type: 'search', 'data-testid': 'search', placeholder: `Search ${mod.title.toLowerCase()}…`, value: st.query, 'aria-label': `Search ${mod.title}` });
  const newBtn = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'new-record', onclick: () => openForm(mod, null, ctx, afterSave) }, `New ${mod.singular}`);
  const thead = h('thead', {}, h('tr', {}, mod.columns.map((c) => h('th', { class: c.num ? 'num' : '' }, c.label)), h('th', { class: 'actions' }, '')));
  const tbody = h('tbody', {});
  const prev = h('button', { type: 'button', class: 'btn', 'data-testid': 'prev-page', onclick: () => go(st.page - 1) }, '‹ Previous');
  const next = h('button', { type: 'button', class: 'btn', 'data-testid': 'next-page', onclick: () => go(st.page + 1) }, 'Next ›');
  const pageInfo = h('span', { class: 'muted', 'data-testid': 'page-info' });

  clear(root).append(
    h('div', { class: 'page-head' }, h('h1', {}, mod.title), count, h('div', { class: 'spacer' }), newBtn),
    h('div', { class: 'toolbar' }, search),
    h('div', { class: 'table-wrap' }, h('table', { class: 'data', 'data-testid': 'records' }, thead, tbody)),
    h('div', { class: 'pager' }, prev, pageInfo, next));

  let bgTimer = 0;
  function refilter() {
    clearTimeout(bgTimer);
    view = makeView(arr, mod, ctx, st.query);
  }

  // Finish counting matches in ~12 ms slices so typing stays responsive on 150,000 records.
  function countInBackground() {
    clearTimeout(bgTimer);
    if (view.complete) return;
    const v = view;
    bgTimer = setTimeout(() => {
      if (v !== view || !root.contains(tbody)) return;
      v.scan(12);
      drawInfo();
      countInBackground();
    }, 0);
  }

  function go(page) {
    st.page = Math.max(0, page);
    drawRows();
    root.scrollIntoView({ block: 'start' });
    window.scrollTo(0, 0);
  }

  function drawRows() {
    const t0 = performance.now();
    view.ensure((st.page + 1) * PAGE_SIZE + 1);
    if (view.complete) st.page = Math.min(st.page, Math.max(0, Math.ceil(view.length / PAGE_SIZE) - 1));
    const start = st.page * PAGE_SIZE;
    const end = Math.min(view.length, start + PAGE_SIZE);
    const rows = [];
    for (let i = start; i < end; i++) rows.push(rowFor(view.at(i)));
    clear(tbody).append(...rows);
    if (!rows.length) {
      tbody.append(h('tr', { class: 'empty' }, h('td', { colspan: mod.columns.length + 1 },
        arr.length ? 'No records match your search.' : `No ${mod.title.toLowerCase()} yet. Create one, or load a sample hotel from the Dashboard.`)));
    }
    root.dataset.filterMs = String(Math.round(performance.now() - t0));
    drawInfo();
    countInBackground();
  }

  function drawInfo() {
    const start = st.page * PAGE_SIZE;
    const end = Math.min(view.length, start + PAGE_SIZE);
    const found = view.complete ? view.length.toLocaleString() : `${view.length.toLocaleString()}+`;
    const pages = Math.max(1, Math.ceil(view.length / PAGE_SIZE));
    count.textContent = st.query.trim() ? `${found} of ${arr.length.toLocaleString()}` : `${arr.length.toLocaleString()} total`;
    root.dataset.counting = view.complete ? 'done' : 'busy';
    pageInfo.textContent = view.length
      ? `Rows ${(start + 1).toLocaleString()}–${end.toLocaleString()} of ${found} · page ${st.page + 1} of ${view.complete ? pages.toLocaleString() : '…'}`
      : 'No rows';
    prev.disabled = st.page <= 0;
    next.disabled = view.length <= end;
  }

  function rowFor(r) {
    return h('tr', { 'data-record-id': r.id },
      mod.columns.map((c) => {
        const v = c.get(r, ctx);
        if (c.badge) return h('td', {}, h('span', { class: `badge badge-${String(v).replace(/[^a-z0-9-]/gi, '')}` }, v));
        return h('td', { class: [c.num ? 'num' : '', c.strong ? 'strong' : ''].join(' ').trim() || null }, v);
      }),
      h('td', { class: 'actions' },
        h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'edit-record', onclick: () => openForm(mod, r, ctx, afterSave) }, 'Edit'),
        h('button', { type: 'button', class: 'btn btn-small btn-danger-ghost', 'data-testid': 'delete-record', onclick: () => remove(r) }, 'Delete')));
  }

  async function remove(r) {
    const what = mod.describe(r, ctx);
    const ok = await confirmDialog(`Delete ${what}? This removes it from the ${mod.title.toLowerCase()} list.`, 'Delete');
    if (!ok) return;
    try {
      await deleteRecord(mod.key, r.id);
      toast(`Deleted ${what}.`);
      afterSave();
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  function afterSave(rec, isNew) {
    arr = cached(mod.key) || [];
    if (ctx.onChange) ctx.onChange(mod.key, arr);
    if (isNew && !st.query.trim()) st.page = 0;
    refilter();
    drawRows();
  }

  const applySearch = () => {
    if (st.query === search.value && view) return;
    st.query = search.value;
    st.page = 0;
    refilter();
    drawRows();
  };
  search.addEventListener('input', debounce(applySearch, 150));
  search.addEventListener('keydown', (e) => { if (e.key === 'Enter') applySearch(); });

  refilter();
  drawRows();
}
