// The keys of the hotel's encryption passphrase, kept in this browser (IndexedDB database
// "backstay-keyring"). Each is a non-extractable WebCrypto CryptoKey: IndexedDB stores the key
// object itself (structured clone), so the page can encrypt and decrypt with it but never read
// its bytes, and the passphrase is not needed again until it is changed. Keys are named by
// their salt (base64). Errors reject as plain Errors named like the DOMException.

const NAME = "backstay-keyring";
const VERSION = 1;
const STORE = "keys";

function plainError(error) {
  if (error instanceof Error && error.constructor === Error) return error;
  const name = (error && error.name) || "Error";
  const plain = new Error(`${name}: ${(error && error.message) || String(error)}`);
  plain.name = name;
  return plain;
}

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

async function run(mode, work) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode, { durability: "strict" });
      let result;
      const request = work(tx.objectStore(STORE));
      if (request) request.onsuccess = () => { result = request.result; };
      tx.oncomplete = () => resolve(result);
      tx.onerror = () => reject(plainError(tx.error));
      tx.onabort = () => reject(plainError(tx.error || new DOMException("transaction aborted", "AbortError")));
    });
  } finally {
    db.close();
  }
}

// The key named `id`, or undefined.
export function get(id) {
  return run("readonly", (store) => store.get(id));
}

// Keep `key` (a CryptoKey) under `id`, beside the others until keepOnly.
export function put(id, key) {
  return run("readwrite", (store) => { store.put(key, id); });
}

// Drop every key but `id`'s (one passphrase at a time, once its record is written).
export function keepOnly(id) {
  return run("readwrite", (store) => {
    const keys = store.getAllKeys();
    keys.onsuccess = () => { for (const key of keys.result) if (key !== id) store.delete(key); };
  });
}

// Drop every key (the passphrase was removed).
export function clear() {
  return run("readwrite", (store) => { store.clear(); });
}
