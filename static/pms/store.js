// Reads and writes PMS module arrays through the real @github/spark runtime (window.spark.kv).
// Like the real W3 PMS, every create/edit/delete writes the WHOLE new array of the module's key.
// Arrays are cached in memory after the first read; our own writes update the cache, so we never
// re-GET a 20 MB array after saving one record.

const cache = new Map();    // key -> array (treated as immutable: every change makes a new array)
const loading = new Map();  // key -> Promise<array>
const queues = new Map();   // key -> Promise (writes to one key run one after another)
let generation = 0;         // bumped by invalidate(); in-flight reads of an older generation are dropped
let sparkPromise = null;

/** Resolves with window.spark once spark.js (a module script) has set it. */
export function spark() {
  if (window.spark && window.spark.kv) return Promise.resolve(window.spark);
  if (!sparkPromise) {
    sparkPromise = new Promise((resolve, reject) => {
      const t0 = Date.now();
      const poll = () => {
        if (window.spark && window.spark.kv) resolve(window.spark);
        else if (Date.now() - t0 > 20000) {
          sparkPromise = null;
          reject(new Error('The Spark runtime did not load (window.spark is missing). Reload the page.'));
        } else setTimeout(poll, 20);
      };
      poll();
    });
  }
  return sparkPromise;
}

function isNetworkError(e) {
  return e instanceof TypeError || /failed to fetch|network/i.test(String(e && e.message));
}

function saveError(e) {
  const err = new Error(isNetworkError(e)
    ? 'Could not save — the server did not answer. Your change was not saved; try again.'
    : `Could not save — the server refused the change (${(e && e.message) || e}). Your change was not saved; try again.`);
  err.cause = e;
  return err;
}

function loadError(key, e) {
  const err = new Error(isNetworkError(e)
    ? `Could not load ${key} — the server did not answer. Try again.`
    : `Could not load ${key} — ${(e && e.message) || e}`);
  err.cause = e;
  return err;
}

export function cached(key) {
  return cache.get(key);
}

/** The module's array (undefined / non-array in the store → []). */
export function read(key) {
  if (cache.has(key)) return Promise.resolve(cache.get(key));
  if (!loading.has(key)) {
    const gen = generation;
    const p = (async () => {
      const s = await spark();
      let value;
      try {
        value = await s.kv.get(key);
      } catch (e) {
        throw loadError(key, e);
      }
      const arr = Array.isArray(value) ? value : [];
      if (gen === generation) cache.set(key, arr);
      return arr;
    })();
    loading.set(key, p);
    const forget = () => { if (loading.get(key) === p) loading.delete(key); };
    p.then(forget, forget);
  }
  return loading.get(key);
}

export function readAll(keys) {
  return Promise.all(keys.map(read));
}

/** Drop cached arrays (all, or one key) so the next read fetches from the store again —
 *  e.g. after Backstay restored a version behind our back. */
export function invalidate(key) {
  generation++;
  if (key) { cache.delete(key); loading.delete(key); } else { cache.clear(); loading.clear(); }
}

function markWrite(ok, message) {
  if (ok) {
    document.body.dataset.lastWrite = String(Date.now());
    delete document.body.dataset.lastError;
  } else {
    document.body.dataset.lastError = message;
  }
}

/** Queue a write of key: change(currentArray) → new array; writes it whole, then caches it. */
function mutate(key, change) {
  const prev = queues.get(key) || Promise.resolve();
  const next = prev.catch(() => {}).then(async () => {
    const s = await spark();
    const current = await read(key);
    const updated = change(current);
    try {
      await s.kv.set(key, updated);
    } catch (e) {
      const err = saveError(e);
      markWrite(false, err.message);
      throw err;
    }
    cache.set(key, updated);
    markWrite(true);
    return updated;
  });
  queues.set(key, next);
  return next;
}

export function createRecord(key, record) {
  return mutate(key, (arr) => arr.concat([record]));
}

export function updateRecord(key, record) {
  return mutate(key, (arr) => {
    const i = arr.findIndex((r) => r && r.id === record.id);
    if (i < 0) throw new Error('This record no longer exists (it may have been deleted). Your change was not saved.');
    const copy = arr.slice();
    copy[i] = record;
    return copy;
  });
}

export function deleteRecord(key, id) {
  return mutate(key, (arr) => arr.filter((r) => !(r && r.id === id)));
}

/** Write a whole value for a key (used by "Load sample hotel"). */
export function replaceKey(key, value) {
  return mutate(key, () => value).then((v) => {
    if (!Array.isArray(v)) cache.delete(key);
    return v;
  });
}
