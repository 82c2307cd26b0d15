// Create/edit dialog: <form data-testid="record-form"> with one input name="<field>" per field.
import { h, clear, toDateInput, fromDateInput, fmtMoney, uuid } from './dom.js';
import { parseLineItems, formatLineItems } from './modules.js';
import { createRecord, updateRecord } from './store.js';
import { toast } from './ui.js';

let uid = 0;

/** Open the dialog for a new record (record = null) or an edit. ctx: {guests, rooms, guestById, user}. */
export function openForm(mod, record, ctx, onSaved) {
  const dlg = document.getElementById('pms-record-dialog');
  const isNew = !record;
  const original = record || {};
  const errorBox = h('div', { class: 'form-error', role: 'alert', 'data-testid': 'form-error', hidden: true });
  const saveBtn = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'save-record' }, isNew ? `Create ${mod.singular}` : 'Save changes');
  const cancelBtn = h('button', { type: 'button', class: 'btn', 'data-testid': 'cancel-record', onclick: () => dlg.close() }, 'Cancel');
  const grid = h('div', { class: 'form-grid' }, mod.fields.map((f) => fieldRow(f, original, isNew, ctx)));
  const form = h('form', { 'data-testid': 'record-form', 'data-module': mod.key, novalidate: false },
    h('h2', { id: 'pms-record-title' }, isNew ? `New ${mod.singular}` : `Edit ${mod.singular}`),
    grid, errorBox,
    h('div', { class: 'pms-dialog-actions' }, cancelBtn, saveBtn));

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!form.reportValidity()) return;
    errorBox.hidden = true;
    let rec;
    try {
      rec = collect(mod, form, original, isNew, ctx);
    } catch (e) {
      errorBox.textContent = e.message;
      errorBox.hidden = false;
      return;
    }
    saveBtn.disabled = true;
    saveBtn.textContent = 'Saving…';
    try {
      if (isNew) await createRecord(mod.key, rec);
      else await updateRecord(mod.key, rec);
      dlg.close();
      const what = mod.describe(rec, ctx);
      toast(isNew ? `Created ${what}.` : `Saved ${what}.`);
      if (onSaved) onSaved(rec, isNew);
    } catch (e) {
      errorBox.textContent = e.message;
      errorBox.hidden = false;
      toast(e.message, 'error');
      saveBtn.disabled = false;
      saveBtn.textContent = isNew ? `Create ${mod.singular}` : 'Save changes';
    }
  });

  clear(dlg).append(form);
  dlg.showModal();
  const first = form.querySelector('input:not([type=hidden]), select, textarea');
  if (first) first.focus();
}

function fieldRow(f, rec, isNew, ctx) {
  const id = `pms-f-${++uid}`;
  let value = rec[f.name];
  if (isNew && value === undefined && f.default !== undefined) value = typeof f.default === 'function' ? f.default() : f.default;
  const common = { id, name: f.name, required: !!f.required };
  let control;
  switch (f.type) {
    case 'number':
      control = h('input', { ...common, type: 'number', step: f.step || 'any', min: f.min, value: value ?? '' });
      break;
    case 'select': {
      const opts = f.options.slice();
      if (value && !opts.includes(value)) opts.push(value);
      control = h('select', common,
        f.optional || !f.required ? h('option', { value: '' }, '—') : null,
        opts.map((o) => h('option', { value: o, selected: o === value }, o)));
      break;
    }
    case 'date':
      control = h('input', { ...common, type: 'date', value: toDateInput(value) });
      break;
    case 'tags':
      control = h('input', { ...common, type: 'text', value: Array.isArray(value) ? value.join(', ') : (value || '') });
      break;
    case 'textarea':
      control = h('textarea', { ...common, rows: 2 }, value || '');
      break;
    case 'roomRef':
      control = roomSelect(common, value, ctx);
      break;
    case 'guestRef':
      control = guestPicker(common, value, ctx);
      break;
    case 'lineItems':
      control = lineItemsEditor(common, value);
      break;
    default: {
      const listId = f.list ? `${id}-list` : undefined;
      control = h('span', { class: 'control' },
        h('input', { ...common, type: f.type === 'email' || f.type === 'tel' ? f.type : 'text', value: value ?? '', list: listId }),
        f.list ? h('datalist', { id: listId }, f.list.map((o) => h('option', { value: o }))) : null);
    }
  }
  return h('div', { class: `form-row${f.wide ? ' wide' : ''}` },
    h('label', { for: id }, f.label, f.required ? h('span', { class: 'req', title: 'required' }, ' *') : null),
    control);
}

function roomSelect(common, value, ctx) {
  const rooms = (ctx.rooms || []).slice().sort((a, b) => String(a.roomNumber).localeCompare(String(b.roomNumber), undefined, { numeric: true }));
  const sel = h('select', common, h('option', { value: '' }, '— not assigned —'),
    rooms.map((r) => h('option', { value: r.id, selected: r.id === value }, `${r.roomNumber} · ${r.roomType || ''} · ${r.status || ''}`)));
  if (value && !rooms.some((r) => r.id === value)) sel.append(h('option', { value, selected: true }, `${value} (unknown room)`));
  return sel;
}

/** Text input holding the guest id, plus a name search that fills it (a select of 50,000 guests would be unusable). */
function guestPicker(common, value, ctx) {
  const idInput = h('input', { ...common, type: 'text', value: value || '', placeholder: 'guest id', autocomplete: 'off', class: 'mono' });
  const shown = h('div', { class: 'picker-current' });
  const results = h('div', { class: 'picker-results' });
  const search = h('input', { type: 'search', placeholder: 'Find guest by name, phone or email…', 'data-role': 'guest-search', 'aria-label': 'Find guest' });
  const showCurrent = () => {
    const g = ctx.guestById && ctx.guestById.get(idInput.value.trim());
    shown.textContent = idInput.value.trim() ? (g ? `Selected: ${g.firstName} ${g.lastName} · ${g.phone || ''}` : 'No guest with this id is loaded.') : '';
    shown.classList.toggle('warn', !!idInput.value.trim() && !g);
  };
  search.addEventListener('input', () => {
    clear(results);
    const q = search.value.trim().toLowerCase();
    if (q.length < 2) return;
    const out = [];
    const guests = ctx.guests || [];
    for (let i = guests.length - 1; i >= 0 && out.length < 8; i--) {
      const g = guests[i];
      if (`${g.firstName} ${g.lastName} ${g.phone || ''} ${g.email || ''}`.toLowerCase().includes(q)) out.push(g);
    }
    if (!out.length) results.append(h('span', { class: 'muted' }, 'No match.'));
    for (const g of out) {
      results.append(h('button', { type: 'button', class: 'chip', 'data-guest-id': g.id,
        onclick: () => { idInput.value = g.id; clear(results); search.value = ''; showCurrent(); } },
      `${g.firstName} ${g.lastName}`, h('small', {}, ` ${g.phone || g.email || ''}`)));
    }
  });
  idInput.addEventListener('input', showCurrent);
  showCurrent();
  return h('div', { class: 'picker' }, h('div', { class: 'picker-inputs' }, search, idInput), results, shown);
}

function lineItemsEditor(common, value) {
  const ta = h('textarea', { ...common, rows: 4, class: 'mono', placeholder: 'Room charge;2;120\nBreakfast;2;15' }, formatLineItems(value));
  const preview = h('div', { class: 'muted line-preview' });
  const update = () => {
    try {
      const items = parseLineItems(ta.value, value || []);
      preview.textContent = `${items.length} line item(s) · subtotal ${fmtMoney(items.reduce((s, it) => s + it.amount, 0))}`;
      preview.classList.remove('warn');
    } catch (e) {
      preview.textContent = e.message;
      preview.classList.add('warn');
    }
  };
  ta.addEventListener('input', update);
  update();
  return h('div', {}, ta, preview);
}

function storeDate(input, previous) {
  if (!input) return undefined;
  if (typeof previous === 'string') {
    return /^\d{4}-\d{2}-\d{2}$/.test(previous) ? input : new Date(fromDateInput(input)).toISOString();
  }
  return fromDateInput(input);
}

/** Build the record from the form; keeps unknown fields of the original record. */
function collect(mod, form, original, isNew, ctx) {
  const rec = isNew ? { id: uuid() } : { ...original };
  for (const f of mod.fields) {
    const el = form.elements[f.name];
    const raw = el ? el.value : '';
    let v;
    switch (f.type) {
      case 'number':
        v = raw === '' ? (f.required ? 0 : undefined) : Number(raw);
        if (v !== undefined && !Number.isFinite(v)) throw new Error(`${f.label} must be a number.`);
        break;
      case 'date': v = storeDate(raw, original[f.name]); break;
      case 'tags': v = raw.split(',').map((s) => s.trim()).filter(Boolean); break;
      case 'lineItems':
        v = parseLineItems(raw, original.lineItems || []);
        if (f.required && !v.length) throw new Error('Add at least one line item.');
        break;
      default: v = raw.trim() === '' ? undefined : raw.trim();
    }
    if (v === undefined && !(f.type === 'tags')) delete rec[f.name];
    else rec[f.name] = v;
  }
  const now = Date.now();
  if (mod.timestamps) {
    if (isNew) rec.createdAt = now;
    rec.updatedAt = now;
  }
  if (mod.beforeSave) mod.beforeSave(rec, { isNew, user: ctx.user });
  return rec;
}
