// The key of the hotel's encryption passphrase, kept in this browser (IndexedDB database
// "backstay-keyring", object store "keys"). Each entry is {key, record}: a non-extractable
// WebCrypto CryptoKey (IndexedDB stores the key object itself, by structured clone, so the page
// can encrypt and decrypt with it but never read its bytes) and the text of the record that
// checks its passphrase (meta/passphrase), named by the salt (base64). Errors reject as plain
// Errors named like the DOMException (QuotaExceededError, ...).

import { plainError } from "./idb.mjs";

const NAME = "backstay-keyring";
const VERSION = 1;
const STORE = "keys";

function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(NAME, VERSION);
    req.onupgradeneeded = () => {
      if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE);
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(plainError(req.error));
  });
}

// One transaction: `work(store)` makes its requests; resolves with the last request's result
// once the transaction has committed.
async function run(mode, work) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      let failure = null;
      const tx = db.transaction(STORE, mode, { durability: "strict" });
      let result;
      tx.oncomplete = () => resolve(result);
      tx.onerror = (event) => { failure = failure || (event.target && event.target.error); };
      tx.onabort = () => reject(plainError(tx.error || failure || new DOMException("transaction aborted", "AbortError")));
      try {
        const request = work(tx.objectStore(STORE));
        if (request) request.onsuccess = () => { result = request.result; };
      } catch (error) {
        try { tx.abort(); } catch (_) { /* already finished */ }
        reject(plainError(error));
      }
    });
  } finally {
    db.close();
  }
}

// The entry {key, record} named `id`, or undefined.
export function get(id) {
  return run("readonly", (store) => store.get(id));
}

// Every entry, as [[id, {key, record}], ...].
export async function entries() {
  const ids = await run("readonly", (store) => store.getAllKeys());
  const values = await run("readonly", (store) => store.getAll());
  return ids.map((id, i) => [id, values[i]]);
}

// Keep `key` (a CryptoKey) and `record` (text) under `id`, beside the others until keepOnly.
export function put(id, key, record) {
  return run("readwrite", (store) => { store.put({ key, record }, id); });
}

// Drop every entry but `id`'s (one passphrase at a time, once its record is written).
export function keepOnly(id) {
  return run("readwrite", (store) => {
    const keys = store.getAllKeys();
    keys.onsuccess = () => { for (const key of keys.result) if (key !== id) store.delete(key); };
  });
}

// Drop every entry (the passphrase is being removed).
export function clear() {
  return run("readwrite", (store) => { store.clear(); });
}
