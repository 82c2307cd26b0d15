// IndexedDB mechanics for the Backstay engine (runs in its worker, called from Python).
//
// IndexedDB requests are events, and a transaction commits as soon as the event loop sees no
// pending request; Python cannot await between the requests of one transaction. So each call
// here does one whole transaction in JavaScript and returns one promise. Values are
// Uint8Array (version stores) or plain objects (journal). Errors reject with the DOMException,
// whose name (QuotaExceededError, ...) app/browser/idb_store.py turns into Python errors.

// Errors cross into Python as plain Errors whose name is the DOMException's (some DOMException
// subclasses, such as Chromium's QuotaExceededError, do not convert through Pyodide).
export function plainError(error) {
  if (error instanceof Error && error.constructor === Error) return error;
  const name = (error && error.name) || "Error";
  const plain = new Error(`${name}: ${(error && error.message) || String(error)}`);
  plain.name = name;
  return plain;
}

function plain(fn) {
  return (...args) => {
    try {
      return Promise.resolve(fn(...args)).catch((error) => { throw plainError(error); });
    } catch (error) {
      return Promise.reject(plainError(error));
    }
  };
}

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

// The connections closed under Backstay (see open_): any use of them fails.
const closedDbs = new WeakSet();

// Whether the browser closed the connection `db` under Backstay (open a new one).
export function isClosed(db) {
  return closedDbs.has(db);
}

function open_(name, version, stores, options = {}) {
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
      // The database is being deleted or upgraded elsewhere: let it; later calls fail with
      // InvalidStateError and the engine reopens it.
      db.onversionchange = () => { closedDbs.add(db); db.close(); };
      // The browser closed the connection itself (a disk full or failing, site data cleared).
      db.onclose = () => closedDbs.add(db);
      resolve(db);
    };
    req.onerror = () => reject(req.error);
    req.onblocked = () => reject(new DOMException(`database ${name} is blocked by another tab`, "InvalidStateError"));
  });
}

async function get_(db, store, key) {
  const tx = db.transaction(store, "readonly");
  const value = await promised(tx.objectStore(store).get(key));
  return value; // undefined when absent (None in Python; null would not be)
}

async function getMany_(db, store, keys) {
  const tx = db.transaction(store, "readonly");
  const os = tx.objectStore(store);
  const requests = Array.from(keys, (key) => promised(os.get(key)));
  const values = await Promise.all(requests);
  const found = [];
  values.forEach((value, i) => { if (value !== undefined) found.push([keys[i], value]); });
  return found;
}

// prefix: only the keys that start with it ("" for all). The keys from the prefix on are read
// and cut where they stop starting with it (an upper bound such as prefix + "\uffff" would miss
// keys with U+FFFF after the prefix).
async function keys_(db, store, prefix) {
  const tx = db.transaction(store, "readonly");
  if (!prefix) return promised(tx.objectStore(store).getAllKeys());
  const found = await promised(tx.objectStore(store).getAllKeys(IDBKeyRange.lowerBound(prefix)));
  const end = found.findIndex((key) => !key.startsWith(prefix));
  return end < 0 ? found : found.slice(0, end);
}

// Every [key, value] whose key starts with `prefix`, in one transaction (a consistent read).
// The range ends before the prefix with its last code unit raised by one: exactly the keys
// that start with it (a prefix ending in U+FFFF is read from the prefix on and cut).
async function prefixed_(db, store, prefix) {
  const tx = db.transaction(store, "readonly");
  const os = tx.objectStore(store);
  const last = prefix.charCodeAt(prefix.length - 1);
  const range = prefix && last < 0xffff
    ? IDBKeyRange.bound(prefix, prefix.slice(0, -1) + String.fromCharCode(last + 1), false, true)
    : IDBKeyRange.lowerBound(prefix);
  const [keys, values] = await Promise.all([promised(os.getAllKeys(range)), promised(os.getAll(range))]);
  const found = [];
  keys.forEach((key, i) => { if (String(key).startsWith(prefix)) found.push([key, values[i]]); });
  return found;
}

// Every [key, value] whose key sorts after `key`, in one transaction (a consistent read).
async function after_(db, store, key) {
  const tx = db.transaction(store, "readonly");
  const os = tx.objectStore(store);
  const range = IDBKeyRange.lowerBound(key, true);
  const [keys, values] = await Promise.all([promised(os.getAllKeys(range)), promised(os.getAll(range))]);
  return keys.map((found, i) => [found, values[i]]);
}

// The bytes of a stored value before its first newline (at most `limit`), or undefined when
// absent: a large value's header is read without copying the value into Python.
async function firstLine_(db, store, key, limit) {
  const value = await get_(db, store, key);
  if (value === undefined) return undefined;
  const head = value.subarray(0, limit);
  const end = head.indexOf(10);
  return head.slice(0, end < 0 ? head.length : end);
}

// The lowercase hex SHA-256 of a stored value (undefined when absent), hashed here: a large
// value is checked without being copied into Python.
async function digest_(db, store, key) {
  const value = await get_(db, store, key);
  if (value === undefined) return undefined;
  return hex(await crypto.subtle.digest("SHA-256", value));
}

// Does the live store still hold, under `key`, the bytes of Backstay's head text for it
// (object store "head")? "same <sha256 hex of those bytes> <their length>", "differs", or
// "absent" (the store
// has no such key); an HTTP error answers "http <status>", a store that cannot be reached
// "unreachable: <why>". Compared here, in JavaScript, as the response streams in: a start that
// finds a large hotel unchanged copies none of it into Python's memory, holds no second copy of
// it in this worker's, and learns its text's hash (which a saved index names) without reading
// the stored text again.
// expect: "<sha256 hex> <length>" of the stored head text when the head pointer names it
// (headText), or undefined. The store is then asked for the value only if it is no longer those
// bytes (If-None-Match): Backstay's server answers 304 and sends nothing when it is, and a store
// that ignores the header sends the value, compared as above.
async function liveMatchesHead_(db, url, key, timeoutMs, expect) {
  let stored = null; // read while the store answers
  const readStored = () => {
    if (stored === null) {
      stored = get_(db, "head", key);
      stored.catch(() => {}); // awaited below, once the store has answered
    }
    return stored;
  };
  if (!expect) readStored();
  let reader;
  try { // the store's failures are answers ("unreachable: ..."); what is thrown is IndexedDB's
    const tag = expect ? `"${expect.split(" ")[0]}"` : null;
    const headers = tag ? { "If-None-Match": tag } : {};
    const response = await fetch(url, { cache: "no-store", headers, signal: AbortSignal.timeout(timeoutMs) });
    if (response.status === 304) { // trusted only as the answer to the tag sent, naming it
      return tag && response.headers.get("ETag") === tag ? `same ${expect} not-modified` : "differs";
    }
    if (response.status === 404) return "absent";
    if (!response.ok) return `http ${response.status}`;
    reader = response.body ? response.body.getReader() : null; // no body: an empty one
  } catch (error) {
    return unreachable(error);
  }
  let head;
  try {
    head = await readStored();
  } catch (error) {
    if (reader) reader.cancel().catch(() => {});
    throw error;
  }
  const a = head === undefined ? new Uint8Array(0) : ArrayBuffer.isView(head)
    ? new Uint8Array(head.buffer, head.byteOffset, head.byteLength) : new Uint8Array(head);
  let at = 0;
  try {
    for (;;) {
      const { done, value } = reader ? await reader.read() : { done: true };
      if (done) break;
      if (head === undefined || at + value.byteLength > a.byteLength
          || !sameBytes(value, a.subarray(at, at + value.byteLength))) {
        reader.cancel().catch(() => {});
        return "differs";
      }
      at += value.byteLength;
    }
  } catch (error) {
    return unreachable(error);
  }
  if (head === undefined || at !== a.byteLength) return "differs";
  return `same ${hex(await crypto.subtle.digest("SHA-256", a))} ${a.byteLength}`;
}

function unreachable(error) {
  return `unreachable: ${(error && error.name) || "Error"}: ${(error && error.message) || error}`;
}

export function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

// Two Uint8Arrays of the same length hold the same bytes (compared a word at a time where both
// can be read as words from the same offset).
export function sameBytes(x, y) {
  let i = 0;
  const n = x.byteLength;
  if ((x.byteOffset - y.byteOffset) % 4 === 0) {
    for (; i < n && (x.byteOffset + i) % 4 !== 0; i++) if (x[i] !== y[i]) return false;
    const words = Math.floor((n - i) / 4);
    const xw = new Uint32Array(x.buffer, x.byteOffset + i, words);
    const yw = new Uint32Array(y.buffer, y.byteOffset + i, words);
    for (let w = 0; w < words; w++) if (xw[w] !== yw[w]) return false;
    i += words * 4;
  }
  for (; i < n; i++) if (x[i] !== y[i]) return false;
  return true;
}

// puts: [[store, key, value], ...]; deletes: [[store, key], ...]. One transaction: all or none.
function apply_(db, puts, deletes) {
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

// ---- the capture journal (the same schema as static/capture.js) ---------------------------
export const JOURNAL = "backstay-journal";
export const JOURNAL_VERSION = 2;

function openJournal_() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(JOURNAL, JOURNAL_VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains("entries")) db.createObjectStore("entries", { keyPath: "seq", autoIncrement: true });
      if (!db.objectStoreNames.contains("outcomes")) db.createObjectStore("outcomes", { keyPath: "seq" });
      if (!db.objectStoreNames.contains("meta")) db.createObjectStore("meta");
      const epoch = crypto.randomUUID();
      req.transaction.objectStore("meta").add({ epoch, created: Date.now() }, "epoch").onerror = (e) => e.preventDefault();
    };
    req.onsuccess = () => {
      const db = req.result;
      db.onversionchange = () => db.close();
      resolve(db);
    };
    req.onerror = () => reject(req.error);
    req.onblocked = () => reject(new DOMException("the journal database is blocked by another tab", "InvalidStateError"));
  });
}

// Entries with seq greater than `after`, oldest first, at most `limit`, each with its outcome
// applied and without its body (hasBody says whether one is kept; journalBody reads it).
function journalAfter_(db, after, limit) {
  return readJournal(db.transaction(["entries", "outcomes"], "readonly"), after, limit);
}

// The journal's epoch (a random id made when the journal database was created, "" if none)
// and journalAfter's entries, in one transaction, and the body of the first entry when it is
// a write answered "ok" whose body is at most `bodyLimit` bytes (the next round records it:
// read here, it takes no call of its own): [epoch, entries, body (bytes or null)].
async function journalRead_(db, after, limit, bodyLimit = 0) {
  const tx = db.transaction(["entries", "outcomes", "meta"], "readonly");
  const bodies = new Map();
  const [meta, entries] = await Promise.all([promised(tx.objectStore("meta").get("epoch")),
    readJournal(tx, after, limit, bodies)]);
  const first = entries[0];
  const body = first && first.op === "set" && first.status === "ok" ? bodies.get(first.seq) : null;
  const small = body !== null && body !== undefined
    && (typeof body === "string" ? body.length * 3 : body.size) <= bodyLimit;
  // A body that cannot be read here is left to journalBody, which says so.
  return [meta ? String(meta.epoch) : "", entries, small ? await bodyBytes(body).catch(() => null) : null];
}

// `bodies`, when given, gets the first entry's raw body (its seq → the stored string or Blob).
async function readJournal(tx, after, limit, bodies = null) {
  const range = IDBKeyRange.lowerBound(after, true);
  const [entries, outcomes] = await Promise.all([
    promised(tx.objectStore("entries").getAll(range, limit)),
    promised(tx.objectStore("outcomes").getAll(range)),
  ]);
  const bySeq = new Map(outcomes.map((o) => [o.seq, o]));
  return entries.map(({ body, ...entry }, index) => {
    const outcome = bySeq.get(entry.seq);
    const merged = outcome ? { ...entry, status: outcome.status, httpStatus: outcome.httpStatus, end: outcome.end } : entry;
    if (!("hasBody" in merged)) merged.hasBody = body !== null && body !== undefined; // journal format 1
    if (bodies && index === 0) bodies.set(entry.seq, body);
    return merged;
  });
}

// The body of entry `seq` as UTF-8 bytes (a Uint8Array), or null.
async function journalBody_(db, seq) {
  const tx = db.transaction("entries", "readonly");
  const entry = await promised(tx.objectStore("entries").get(seq));
  if (!entry) return null;
  try {
    return await bodyBytes(entry.body);
  } catch (error) {
    // The file that holds a Blob body is gone or damaged (NotFoundError, NotReadableError):
    // no later read can succeed. Named apart, so that the engine records the write from the
    // store instead of trying this read again for ever. Any other failure is tried again.
    if (!error || (error.name !== "NotFoundError" && error.name !== "NotReadableError")) throw error;
    const unreadable = new Error(`the body of journal entry ${seq} cannot be read (${error && error.name}: ${error && error.message})`);
    unreadable.name = "BodyUnreadableError";
    throw unreadable;
  }
}

// The bytes the server received: a string UTF-8 encoded as sending it does (a lone surrogate
// becomes U+FFFD). Bytes, not a string: Python decodes UTF-8 far faster than Pyodide converts a
// JavaScript string.
async function bodyBytes(body) {
  if (body === null || body === undefined) return null;
  if (typeof body === "string") return new TextEncoder().encode(body);
  return new Uint8Array(await body.arrayBuffer());
}

function journalDropThrough_(db, seq) {
  const tx = db.transaction(["entries", "outcomes"], "readwrite");
  const done = completed(tx);
  tx.objectStore("entries").delete(IDBKeyRange.upperBound(seq));
  tx.objectStore("outcomes").delete(IDBKeyRange.upperBound(seq));
  return done;
}

// The ids of the tabs still open (each holds the Web Lock "backstay-tab-<id>", see capture.js).
async function liveTabs_() {
  if (!navigator.locks || !navigator.locks.query) return [];
  const { held } = await navigator.locks.query();
  return held.map((lock) => lock.name).filter((name) => name.startsWith("backstay-tab-"))
    .map((name) => name.slice("backstay-tab-".length));
}

export const open = plain(open_);
export const get = plain(get_);
export const getMany = plain(getMany_);
export const keys = plain(keys_);
export const liveMatchesHead = plain(liveMatchesHead_);
export const digest = plain(digest_);
export const prefixed = plain(prefixed_);
export const after = plain(after_);
export const firstLine = plain(firstLine_);
export const apply = plain(apply_);
export const openJournal = plain(openJournal_);
export const journalRead = plain(journalRead_);
export const journalAfter = plain(journalAfter_);
export const journalBody = plain(journalBody_);
export const journalDropThrough = plain(journalDropThrough_);
export const liveTabs = plain(liveTabs_);

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
