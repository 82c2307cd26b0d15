// "Load sample hotel": GET /_backstay/sample?size=small|large → {kvKey: array}; after a confirm,
// write each key with window.spark.kv.set, one after another, with progress text.
import { h } from './dom.js';
import { replaceKey } from './store.js';
import { toast, status, confirmDialog } from './ui.js';

let busy = false;

/** The two buttons plus a progress line; onDone() runs after a successful load. */
export function sampleControls(onDone) {
  const progress = h('div', { class: 'muted sample-progress', 'data-testid': 'sample-progress' });
  const mk = (size, label) => h('button', { type: 'button', class: 'btn', 'data-testid': `load-sample-${size}`, disabled: busy,
    onclick: () => loadSample(size, progress, buttons, onDone) }, label);
  const buttons = [mk('small', 'Load small sample hotel'), mk('large', 'Load large sample hotel')];
  return h('div', { class: 'sample-box' },
    h('div', { class: 'sample-buttons' }, buttons),
    h('p', { class: 'muted small' }, 'Small: ~50 rooms and a few thousand guests. Large: ~500 rooms, 50,000 guests, 150,000 reservations. Replaces the current data of the keys it contains.'),
    progress);
}

async function loadSample(size, progress, buttons, onDone) {
  if (busy) return;
  const ok = await confirmDialog(`Load the ${size} sample hotel? This REPLACES the current guests, reservations, rooms, invoices (and any other module the sample contains).`, `Load ${size} sample`);
  if (!ok) return;
  busy = true;
  buttons.forEach((b) => { b.disabled = true; });
  const say = (text, kind = 'info') => { progress.textContent = text; status(text, kind); };
  try {
    say(`Fetching the ${size} sample hotel…`);
    let data;
    try {
      const resp = await fetch(`/_backstay/sample?size=${encodeURIComponent(size)}`);
      if (!resp.ok) throw new Error(`the server answered ${resp.status} ${resp.statusText}`.trim());
      data = await resp.json();
    } catch (e) {
      throw new Error(`Could not fetch the sample hotel — ${e instanceof TypeError ? 'the server did not answer' : e.message}. Nothing was changed.`);
    }
    if (!data || typeof data !== 'object' || Array.isArray(data)) throw new Error('The sample hotel answer was not a {key: value} object. Nothing was changed.');
    const keys = Object.keys(data);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      const n = Array.isArray(data[k]) ? `${data[k].length.toLocaleString()} records` : 'value';
      say(`Writing ${k} (${i + 1}/${keys.length}, ${n})…`);
      try {
        await replaceKey(k, data[k]);
      } catch (e) {
        throw new Error(`${e.message} (stopped at ${k}; ${i} of ${keys.length} keys were written.)`);
      }
    }
    progress.textContent = `Loaded the ${size} sample hotel (${keys.length} keys).`;
    toast(`Loaded the ${size} sample hotel (${keys.length} keys).`);
    if (onDone) onDone();
  } catch (e) {
    progress.textContent = e.message;
    toast(e.message, 'error');
  } finally {
    busy = false;
    buttons.forEach((b) => { if (b.isConnected) b.disabled = false; });
  }
}
