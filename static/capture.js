// Backstay capture shim: the first script of the page.
//
// Wraps window.fetch and records every mutating Spark KV request (POST or DELETE of
// /_spark/kv/<key> on this origin, whoever sends it) in a durable IndexedDB journal, in call
// order. The request itself is sent at once and unchanged; recording happens beside it.
// The Backstay engine (Python, in a worker) drains the journal into versions. docs/FORMAT.md,
// "Journal", is the normative description of the entries written here.
(() => {
  "use strict";
  if (window.__backstayCapture) return;

  const DB_NAME = "backstay-journal";
  const DB_VERSION = 1;
  const STORE = "entries";
  const CHANNEL = "backstay-journal";
  const KV_PREFIX = "/_spark/kv/";
  const realFetch = window.fetch.bind(window);
  const tab = (crypto.randomUUID && crypto.randomUUID()) || String(Math.random()).slice(2);
  const channel = "BroadcastChannel" in window ? new BroadcastChannel(CHANNEL) : null;
  const stats = { recorded: 0, failed: 0, lastError: null };

  let dbPromise = null;
  function openJournal() {
    if (!dbPromise) {
      dbPromise = new Promise((resolve, reject) => {
        const req = indexedDB.open(DB_NAME, DB_VERSION);
        req.onupgradeneeded = () => {
          const db = req.result;
          if (!db.objectStoreNames.contains(STORE)) {
            db.createObjectStore(STORE, { keyPath: "seq", autoIncrement: true });
          }
        };
        req.onsuccess = () => {
          const db = req.result;
          db.onversionchange = () => { db.close(); dbPromise = null; };
          resolve(db);
        };
        req.onerror = () => reject(req.error);
        req.onblocked = () => reject(new Error("journal database is blocked by another tab"));
      });
      dbPromise.catch(() => { dbPromise = null; });
    }
    return dbPromise;
  }

  function transact(mode, work) {
    return openJournal().then((db) => new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode, { durability: "strict" });
      let result;
      work(tx.objectStore(STORE), (value) => { result = value; });
      tx.oncomplete = () => resolve(result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error || new Error("journal transaction aborted"));
    }));
  }

  // Which requests are captured: same-origin POST/DELETE of /_spark/kv/<key>.
  function kvWrite(input, init) {
    const method = ((init && init.method) || (input instanceof Request ? input.method : "GET")).toUpperCase();
    if (method !== "POST" && method !== "DELETE") return null;
    let url;
    try {
      url = new URL(input instanceof Request ? input.url : String(input), location.href);
    } catch (_) {
      return null;
    }
    if (url.origin !== location.origin || !url.pathname.startsWith(KV_PREFIX)) return null;
    const rawKey = url.pathname.slice(KV_PREFIX.length);
    if (!rawKey) return null;
    let key;
    try { key = decodeURIComponent(rawKey); } catch (_) { key = rawKey; }
    const headers = new Headers((init && init.headers) || (input instanceof Request ? input.headers : undefined));
    return {
      key,
      collection: url.searchParams.get("collection") || "",
      op: method === "DELETE" ? "delete" : "set",
      initial: headers.get("X-Spark-Initial") === "true",
    };
  }

  function bodyText(input, init) {
    if (init && init.body !== undefined && init.body !== null) {
      const body = init.body;
      if (typeof body === "string") return body;
      if (body instanceof Blob) return body.text();
      if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return new TextDecoder().decode(body);
      if (body instanceof URLSearchParams) return body.toString();
      return String(body);
    }
    if (input instanceof Request) return input.clone().text();
    return null;
  }

  // Entries are added one after another, in call order, on one promise chain; IndexedDB's
  // autoIncrement gives them their sequence numbers (seq), which the engine drains in order.
  let chain = Promise.resolve();

  function record(write, body, response) {
    const entry = {
      key: write.key,
      collection: write.collection,
      op: write.op,
      initial: write.initial,
      body: null,
      time: Date.now(),
      tab,
      status: "pending",
      httpStatus: 0,
    };
    const added = chain.then(() => Promise.resolve(body)).then((text) => {
      entry.body = write.op === "set" ? text : null;
      return transact("readwrite", (store, done) => {
        const req = store.add(entry);
        req.onsuccess = () => done(req.result);
      });
    });
    chain = added.catch(() => undefined);
    Promise.all([added, response.then(
      (res) => ({ status: res.ok ? "ok" : "failed", httpStatus: res.status }),
      () => ({ status: "unknown", httpStatus: 0 }),
    )]).then(([seq, outcome]) => transact("readwrite", (store) => {
      store.put({ ...entry, seq, ...outcome });
    }).then(() => {
      stats.recorded += 1;
      if (channel) channel.postMessage({ type: "journal", seq });
      window.dispatchEvent(new CustomEvent("backstay:captured", { detail: { seq, key: entry.key } }));
    })).catch((error) => {
      stats.failed += 1;
      stats.lastError = String(error && error.message || error);
      console.error("Backstay could not record a write in its journal:", error);
    });
  }

  window.fetch = function backstayFetch(input, init) {
    const write = kvWrite(input, init);
    let body = null;
    if (write && write.op === "set") {
      try { body = bodyText(input, init); } catch (_) { body = null; }
    }
    const response = realFetch(input, init);
    if (write) {
      try { record(write, body, response); } catch (error) { console.error("Backstay capture:", error); }
    }
    return response;
  };

  window.__backstayCapture = {
    stats,
    // Resolves when every write captured so far has been recorded in the journal.
    flushed: () => chain,
  };
})();
