// Backstay capture shim: the first script of the page.
//
// Records every mutating Spark KV request (POST or DELETE of /_spark/kv/<key> on this origin,
// whoever sends it, through fetch, XMLHttpRequest or navigator.sendBeacon) in a durable
// IndexedDB journal, in call order. The request itself is sent at once and unchanged; recording
// happens beside it. Bodies are kept as Blobs (no copy of a big body on the main thread beyond
// the UTF-8 encoding that sending it costs anyway). The Backstay engine (Python, in a worker)
// drains the journal into versions. docs/FORMAT.md, "Journal", describes what is written here.
(() => {
  "use strict";
  if (window.__backstayCapture) return;

  const DB_NAME = "backstay-journal";
  const DB_VERSION = 2;
  const CHANNEL = "backstay-journal";
  const KV_PREFIX = "/_spark/kv/";
  // A beacon's outcome is never seen: it is taken to have reached the store by then.
  const BEACON_SETTLE_MS = 5000;
  const realFetch = window.fetch.bind(window);
  const tab = (crypto.randomUUID && crypto.randomUUID()) || String(Math.random()).slice(2);
  const channel = "BroadcastChannel" in window ? new BroadcastChannel(CHANNEL) : null;
  const stats = { recorded: 0, withoutBody: 0, failed: 0, lastError: null };

  // While this tab is open it holds a Web Lock named after it: the engine tells from it that
  // an unanswered write's tab has closed (its answer will never be recorded).
  if (navigator.locks) {
    navigator.locks.request(`backstay-tab-${tab}`, () => new Promise(() => {})).catch(() => {});
  }

  // ---- the journal database (the same schema as static/backstay/idb.mjs openJournal) --------
  let dbPromise = null;
  function openJournal() {
    if (!dbPromise) {
      dbPromise = new Promise((resolve, reject) => {
        const req = indexedDB.open(DB_NAME, DB_VERSION);
        req.onupgradeneeded = () => {
          const db = req.result;
          if (!db.objectStoreNames.contains("entries")) {
            db.createObjectStore("entries", { keyPath: "seq", autoIncrement: true });
          }
          if (!db.objectStoreNames.contains("outcomes")) db.createObjectStore("outcomes", { keyPath: "seq" });
          if (!db.objectStoreNames.contains("meta")) db.createObjectStore("meta");
          const meta = req.transaction.objectStore("meta");
          const epoch = (crypto.randomUUID && crypto.randomUUID()) || String(Math.random()).slice(2);
          meta.add({ epoch, created: Date.now() }, "epoch").onerror = (event) => event.preventDefault();
        };
        req.onsuccess = () => {
          const db = req.result;
          // Another context deletes or upgrades the database: let it, and open anew next time.
          db.onversionchange = () => { db.close(); dbPromise = null; };
          db.onclose = () => { dbPromise = null; };
          resolve(db);
        };
        req.onerror = () => reject(req.error);
        req.onblocked = () => reject(new Error("the journal database is blocked by another tab"));
      });
      dbPromise.catch(() => { dbPromise = null; });
    }
    return dbPromise;
  }

  function transactOnce(store, work) {
    return openJournal().then((db) => new Promise((resolve, reject) => {
      const tx = db.transaction(store, "readwrite", { durability: "strict" });
      let result;
      work(tx.objectStore(store), (value) => { result = value; });
      tx.oncomplete = () => resolve(result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error || new Error("journal transaction aborted"));
    }));
  }

  // One retry on a connection that closed under us (the database was deleted meanwhile).
  function transact(store, work) {
    return transactOnce(store, work).catch((error) => {
      if (!error || error.name !== "InvalidStateError") throw error;
      dbPromise = null;
      return transactOnce(store, work);
    });
  }

  // ---- which requests are writes ---------------------------------------------------------
  function kvWrite(target, method, headers) {
    method = String(method || "GET").toUpperCase();
    if (method !== "POST" && method !== "DELETE") return null;
    let url;
    try { url = new URL(String(target), location.href); } catch (_) { return null; }
    if (url.origin !== location.origin || !url.pathname.startsWith(KV_PREFIX)) return null;
    const rawKey = url.pathname.slice(KV_PREFIX.length);
    if (!rawKey) return null;
    let key;
    try { key = decodeURIComponent(rawKey); } catch (_) { key = rawKey; }
    let initial = false;
    try { initial = new Headers(headers || undefined).get("X-Spark-Initial") === "true"; } catch (_) { /* odd headers */ }
    return {
      key,
      collection: url.searchParams.get("collection") || "",
      op: method === "DELETE" ? "delete" : "set",
      initial,
    };
  }

  // The body as the server receives it: a Blob (strings are UTF-8 encoded exactly as sending
  // them does), a promise of one, or null when it cannot be kept without consuming it.
  function bodyBlob(body) {
    if (body === undefined || body === null) return null;
    if (typeof body === "string") return new Blob([body]);
    if (body instanceof Blob) return body;
    if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return new Blob([body]);
    if (body instanceof URLSearchParams) return new Blob([body.toString()]);
    return null; // FormData, ReadableStream, Document: the live value will say what was written
  }

  // ---- recording --------------------------------------------------------------------------
  // Entries are added one after another, in call order, on one promise chain; IndexedDB's
  // autoIncrement gives them their sequence numbers (seq), which the engine drains in order.
  let chain = Promise.resolve();

  function failed(error, what) {
    stats.failed += 1;
    stats.lastError = `${what}: ${error && error.name ? error.name + ": " : ""}${(error && error.message) || error}`;
    console.error("Backstay could not record a write in its journal:", error);
    window.dispatchEvent(new CustomEvent("backstay:capture-error", { detail: { message: stats.lastError } }));
  }

  let staleRestore = null;

  function record(write, body, outcome, via) {
    const entry = {
      key: write.key,
      collection: write.collection,
      op: write.op,
      initial: write.initial,
      hasBody: false,
      body: null,
      start: Date.now(),
      tab,
      via,
    };
    // This page still holds data from before a restore it was told of (it did not re-read):
    // the engine flags the version of this write as possibly undoing that restore.
    if (staleRestore) entry.staleRestore = staleRestore;
    // Said at once, before any storage: if the tab closes before the entry is stored, the
    // engine still learns that this key was written (and reads it back).
    if (channel) channel.postMessage({ type: "intent", key: entry.key, collection: entry.collection, start: entry.start, tab });
    const added = chain.then(() => Promise.resolve(body).catch(() => null)).then((blob) => {
      if (write.op === "set" && blob) {
        entry.hasBody = true;
        entry.body = blob;
      }
      return transact("entries", (store, done) => {
        const req = store.add(entry);
        req.onsuccess = () => done(req.result);
      }).catch((error) => {
        if (!entry.hasBody) throw error;
        // Most likely the storage is full: keep the write without its body, so that the
        // engine still knows of it (and reads what the store holds).
        stats.withoutBody += 1;
        const bare = { ...entry, hasBody: false, body: null, bodyLost: String(error && error.name || error) };
        return transact("entries", (store, done) => {
          const req = store.add(bare);
          req.onsuccess = () => done(req.result);
        });
      });
    });
    chain = added.catch(() => undefined);
    Promise.all([added, outcome]).then(([seq, result]) => transact("outcomes", (store) => {
      store.put({ seq, status: result.status, httpStatus: result.httpStatus, end: result.end });
    }).then(() => {
      stats.recorded += 1;
      if (channel) channel.postMessage({ type: "journal", seq });
      window.dispatchEvent(new CustomEvent("backstay:captured", { detail: { seq, key: entry.key } }));
    })).catch((error) => failed(error, `write to ${entry.key}`));
    added.then((seq) => { if (channel) channel.postMessage({ type: "journal", seq, pending: true }); }, () => {});
  }

  // An outcome is stamped with the time it was seen (`end`), not the time it is stored: the
  // engine orders writes by these times.
  function settle(promise) {
    return promise.then(
      (res) => ({ status: res.ok ? "ok" : "failed", httpStatus: res.status, end: Date.now() }),
      () => ({ status: "unknown", httpStatus: 0, end: Date.now() }),
    );
  }

  function safely(work) {
    try { work(); } catch (error) { console.error("Backstay capture:", error); }
  }

  // fetch(input, init): input may be a URL or a Request (whose body is read from a clone,
  // before the real fetch consumes it).
  window.fetch = function backstayFetch(input, init) {
    let write = null;
    let body = null;
    safely(() => {
      const isRequest = input instanceof Request;
      const method = (init && init.method) || (isRequest ? input.method : "GET");
      const headers = (init && init.headers) || (isRequest ? input.headers : undefined);
      write = kvWrite(isRequest ? input.url : input, method, headers);
      if (write && write.op === "set") {
        if (init && init.body !== undefined && init.body !== null) body = bodyBlob(init.body);
        else if (isRequest && input.body) body = input.clone().blob();
      }
    });
    const response = realFetch(input, init);
    if (write) safely(() => record(write, body, settle(response), "fetch"));
    return response;
  };

  const xhr = XMLHttpRequest.prototype;
  const realOpen = xhr.open;
  const realSetRequestHeader = xhr.setRequestHeader;
  const realSend = xhr.send;
  xhr.open = function backstayOpen(method, url, ...rest) {
    this.__backstay = { method, url, headers: [] };
    return realOpen.call(this, method, url, ...rest);
  };
  xhr.setRequestHeader = function backstaySetRequestHeader(name, value) {
    if (this.__backstay) this.__backstay.headers.push([name, value]);
    return realSetRequestHeader.call(this, name, value);
  };
  xhr.send = function backstaySend(body) {
    const request = this.__backstay;
    let write = null;
    safely(() => { write = request ? kvWrite(request.url, request.method, request.headers) : null; });
    if (write) {
      safely(() => {
        const outcome = new Promise((resolve) => {
          this.addEventListener("loadend", () => {
            const status = this.status;
            const end = Date.now();
            resolve(status === 0 ? { status: "unknown", httpStatus: 0, end }
              : { status: status >= 200 && status < 300 ? "ok" : "failed", httpStatus: status, end });
          }, { once: true });
        });
        record(write, write.op === "set" ? bodyBlob(body) : null, outcome, "xhr");
      });
    }
    return realSend.call(this, body);
  };

  if (navigator.sendBeacon) {
    const realBeacon = navigator.sendBeacon.bind(navigator);
    navigator.sendBeacon = function backstaySendBeacon(url, data) {
      let write = null;
      safely(() => { write = kvWrite(url, "POST"); });
      const queued = realBeacon(url, data);
      if (write) {
        safely(() => record(write, bodyBlob(data), Promise.resolve(queued
          ? { status: "unknown", httpStatus: 0, end: Date.now() + BEACON_SETTLE_MS }
          : { status: "failed", httpStatus: 0, end: Date.now() }), "beacon"));
      }
      return queued;
    };
  }

  window.__backstayCapture = {
    stats,
    tab,
    // facade.js: a restore changed the data and this page did not read it again.
    markStale: (versionId) => { staleRestore = String(versionId); },
    // Resolves when every write captured so far has been added to the journal.
    flushed: () => chain,
  };
})();
