// IndexedDB mechanics for the Backstay engine (runs in its worker, called from Python).
//
// IndexedDB requests are events, and a transaction commits as soon as the event loop sees no
// pending request; Python cannot await between the requests of one transaction. So each call
// here does one whole transaction in JavaScript and returns one promise. Values are
// Uint8Array (version stores) or plain objects (journal). Errors reject with the DOMException,
// whose name (QuotaExceededError, ...) app/browser/idb_store.py turns into Python errors.

function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function completed(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new DOMException("transaction aborted", "AbortError"));
  });
}

export function open(name, version, stores, options = {}) {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(name, version);
    req.onupgradeneeded = () => {
      const db = req.result;
      for (const store of stores) {
        if (!db.objectStoreNames.contains(store)) {
          db.createObjectStore(store, options.autoIncrement ? { keyPath: "seq", autoIncrement: true } : undefined);
        }
      }
    };
    req.onsuccess = () => {
      const db = req.result;
      db.onversionchange = () => db.close();
      resolve(db);
    };
    req.onerror = () => reject(req.error);
    req.onblocked = () => reject(new DOMException(`database ${name} is blocked by another tab`, "InvalidStateError"));
  });
}

export async function get(db, store, key) {
  const tx = db.transaction(store, "readonly");
  const value = await promised(tx.objectStore(store).get(key));
  return value; // undefined when absent (None in Python; null would not be)
}

export async function getMany(db, store, keys) {
  const tx = db.transaction(store, "readonly");
  const os = tx.objectStore(store);
  const requests = Array.from(keys, (key) => promised(os.get(key)));
  const values = await Promise.all(requests);
  const found = [];
  values.forEach((value, i) => { if (value !== undefined) found.push([keys[i], value]); });
  return found;
}

export async function keys(db, store) {
  const tx = db.transaction(store, "readonly");
  return promised(tx.objectStore(store).getAllKeys());
}

// puts: [[store, key, value], ...]; deletes: [[store, key], ...]. One transaction: all or none.
export function apply(db, puts, deletes) {
  const names = new Set([...puts.map((p) => p[0]), ...deletes.map((d) => d[0])]);
  if (names.size === 0) return Promise.resolve();
  const tx = db.transaction([...names], "readwrite", { durability: "strict" });
  const done = completed(tx);
  try {
    for (const [store, key] of deletes) tx.objectStore(store).delete(key);
    for (const [store, key, value] of puts) tx.objectStore(store).put(value, key);
  } catch (error) {
    try { tx.abort(); } catch (_) { /* already finished */ }
    return Promise.reject(error);
  }
  return done;
}

// Journal: entries with seq greater than `after`, oldest first, at most `limit`.
export async function journalAfter(db, store, after, limit) {
  const tx = db.transaction(store, "readonly");
  const range = IDBKeyRange.lowerBound(after, true);
  return promised(tx.objectStore(store).getAll(range, limit));
}

export function journalDropThrough(db, store, seq) {
  const tx = db.transaction(store, "readwrite");
  const done = completed(tx);
  tx.objectStore(store).delete(IDBKeyRange.upperBound(seq));
  return done;
}

// Web Locks: resolves once this context holds `name`, with a function that releases it.
export function acquireLock(name) {
  return new Promise((resolve) => {
    navigator.locks.request(name, () => new Promise((release) => resolve(release)));
  });
}

// BroadcastChannel listener; returns the channel so the caller can close it.
export function listen(name, callback) {
  const channel = new BroadcastChannel(name);
  channel.onmessage = (event) => callback(event.data);
  return channel;
}

export function broadcast(name, message) {
  const channel = new BroadcastChannel(name);
  channel.postMessage(message);
  channel.close();
}
