// Backstay capture shim: the first script of the page.
//
// Records every mutating Spark KV request (POST or DELETE of /_spark/kv/<key> on this origin,
// whoever sends it, through fetch, XMLHttpRequest or navigator.sendBeacon) in a durable
// IndexedDB journal, in call order. The request itself is sent at once and unchanged; recording
// happens beside it. Where chosen (README), this script registers Backstay's service worker
// (static/capture_sw.js, which shares this script's journal writer): a page it controls from its
// start is recorded there, off the page's main thread, and this script wraps nothing. Other pages
// (the very first load, a browser without service workers, a site with a service worker of its
// own) are recorded here: a small journal worker, started from this script's own source, stores
// each entry and its outcome, so the page's main thread only copies a body to it (a big one in
// parts, when the page is idle). The Backstay engine (Python, in another worker) drains the
// journal into versions. docs/FORMAT.md, "Journal", describes what is written here.
(() => {
  "use strict";
  const inServiceWorker = typeof ServiceWorkerGlobalScope !== "undefined" && self instanceof ServiceWorkerGlobalScope;
  if (!inServiceWorker && window.__backstayCapture) return;

  const CHANNEL = "backstay-journal";
  const KV_PREFIX = "/_spark/kv/";
  // Marks the KV writes Backstay's engine makes itself (app/browser/spark_kv.py OWN_WRITE_HEADER).
  const OWN_WRITE_HEADER = "X-Backstay-Writer";
  // A beacon's outcome is never seen: it is taken to have reached the store by then.
  const BEACON_SETTLE_MS = 5000;
  // The longest the engine waits to hear of a new entry while the page is busy.
  const IDLE_TIMEOUT_MS = 1000;
  // A string body longer than this goes to the journal worker in parts of this many characters.
  const PART_CHARS = 1024 * 1024;
  // An idle period (at most 50 ms) is given one more part while it has this many ms left: the
  // parts take at most about half of it, and the task posting them never grows long.
  const PART_ROOM_MS = 25;
  // The journal worker is given up (the page writes the journal itself) when it has not said it
  // started by then, or has not answered a write by then.
  const WORKER_START_MS = 10_000;
  const WORKER_ANSWER_MS = 30_000;
  const newId = () => (crypto.randomUUID && crypto.randomUUID()) || String(Math.random()).slice(2);
  const describe = (error) => `${error && error.name && error.name !== "Error" ? error.name + ": " : ""}${(error && error.message) || error}`;

  // While a tab (or Backstay's service worker) records writes it holds a Web Lock named after
  // it: the engine tells from it that an unanswered write's recorder is gone (its answer will
  // never be recorded).
  function holdLock(tab) {
    if (navigator.locks) {
      navigator.locks.request(`backstay-tab-${tab}`, () => new Promise(() => {})).catch(() => {});
    }
  }

  // ---- the journal writer -----------------------------------------------------------------
  // Writes entries and outcomes to the journal database (the same schema as
  // static/backstay/idb.mjs openJournal). It runs in a small worker started from this script's
  // own source (so the page's main thread never encodes or stores a big body), or in the page
  // when no worker can be started. Self-contained: the worker gets its source as text.
  function makeWriter() {
    const DB_NAME = "backstay-journal";
    // A string body of more characters than this is kept as a Blob (the browser keeps a value
    // of over 64 KiB apart from its database anyway).
    const STRING_BODY_CHARS = 64 * 1024;
    const DB_VERSION = 2;
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

    function addEntry(entry) {
      return transact("entries", (store, done) => {
        const req = store.add(entry);
        req.onsuccess = () => done(req.result);
      });
    }

    // Adds an entry with its body (a string, Blob or ArrayBuffer; null for none); resolves with
    // {seq, withoutBody}. Entries are added in the order this is called.
    let chain = Promise.resolve();
    function add(entry, body) {
      const added = chain.then(() => {
        if (entry.op !== "set" || body === null || body === undefined) return addEntry(entry).then((seq) => ({ seq, withoutBody: false }));
        // A short string is kept as it is (encoding it would cost more than the rest of the
        // work); a long one, and bytes, as a Blob. The browser keeps a Blob in a file of its own,
        // so the entry stays small: a 15 MB string in it would be read back whole by every
        // reader of the entry, not only by the reader of its body. A Blob of a string holds its
        // UTF-8 bytes, what sending the string sends.
        const kept = body instanceof Blob || (typeof body === "string" && body.length <= STRING_BODY_CHARS)
          ? body : new Blob([body]);
        const withBody = { ...entry, hasBody: true, body: kept };
        return addEntry(withBody).then((seq) => ({ seq, withoutBody: false }), (error) => {
          // Most likely the storage is full: keep the write without its body, so that the
          // engine still knows of it (and reads what the store holds).
          const bare = { ...entry, hasBody: false, body: null, bodyLost: String((error && error.name) || error) };
          return addEntry(bare).then((seq) => ({ seq, withoutBody: true }));
        });
      });
      chain = added.catch(() => undefined);
      return added;
    }

    function outcome(seq, result) {
      return transact("outcomes", (store) => {
        store.put({ seq, status: result.status, httpStatus: result.httpStatus, end: result.end });
      });
    }

    // Small notes kept beside the journal (the service worker's: docs/FORMAT.md, "Journal").
    function remember(name, value) {
      return transact("meta", (store) => {
        if (value === undefined) store.delete(name);
        else store.put(value, name);
      });
    }
    function recall(prefix) {
      return openJournal().then((db) => new Promise((resolve, reject) => {
        const range = IDBKeyRange.bound(prefix, prefix + "\uffff");
        const store = db.transaction("meta").objectStore("meta");
        const keys = store.getAllKeys(range);
        const values = store.getAll(range);
        values.onsuccess = () => resolve(keys.result.map((key, at) => [key, values.result[at]]));
        values.onerror = () => reject(values.error);
      }));
    }

    return { add, outcome, remember, recall };
  }

  // The worker: {type: "entry", id, entry, body} → {type: "added", id, seq, withoutBody};
  // {type: "outcome", id, outcome} → {type: "recorded", id, seq}; any failure → {type: "failed", id, message}.
  function workerMain(writer) {
    const added = new Map();
    const partsOf = new Map();
    const describe = (error) => `${error && error.name ? error.name + ": " : ""}${(error && error.message) || error}`;
    self.onmessageerror = () => self.postMessage({ type: "unreadable" });
    self.postMessage({ type: "ready" });
    self.onmessage = (event) => {
      const message = event.data;
      if (message.type === "part") {
        // A big string body arrives in parts (see postInParts); its entry follows them.
        const parts = partsOf.get(message.id) || [];
        parts.push(message.text);
        partsOf.set(message.id, parts);
      } else if (message.type === "entry") {
        const parts = partsOf.get(message.id);
        partsOf.delete(message.id);
        const seq = writer.add(message.entry, parts ? parts.join("") : message.body);
        added.set(message.id, seq);
        seq.then((result) => self.postMessage({ type: "added", id: message.id, seq: result.seq, withoutBody: result.withoutBody }),
          (error) => self.postMessage({ type: "failed", id: message.id, message: describe(error) }));
      } else if (message.type === "outcome") {
        const seq = added.get(message.id);
        added.delete(message.id);
        if (!seq) return;
        seq.then((result) => writer.outcome(result.seq, message.outcome).then(() => result.seq))
          .then((done) => self.postMessage({ type: "recorded", id: message.id, seq: done }),
            (error) => self.postMessage({ type: "failed", id: message.id, message: describe(error) }));
      }
    };
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
    try {
      const named = new Headers(headers || undefined);
      // Backstay's own write (the engine writing a restore): it records its own version.
      if (named.has(OWN_WRITE_HEADER)) return null;
      initial = named.get("X-Spark-Initial") === "true";
    } catch (_) { /* odd headers */ }
    return {
      key,
      collection: url.searchParams.get("collection") || "",
      op: method === "DELETE" ? "delete" : "set",
      initial,
    };
  }

  // A write's journal entry, without its body (docs/FORMAT.md, "Journal").
  function entryOf(write, start, tab, via, call) {
    return {
      key: write.key,
      collection: write.collection,
      op: write.op,
      initial: write.initial,
      hasBody: false,
      body: null,
      start,
      tab,
      via,
      tabSeq: call.tabSeq,
      inFlight: call.inFlight,
    };
  }

  // Which writes of this recorder (a tab, or the service worker) were still waiting for their
  // answer when another was made: the engine orders two writes of one recorder by this, not by
  // their times (one millisecond holds an answer and the next call alike).
  function writeOrder() {
    let writes = 0;
    const inFlight = new Set();
    return {
      begin() {
        const call = { tabSeq: ++writes, inFlight: [...inFlight] };
        inFlight.add(call.tabSeq);
        return call;
      },
      seen(call) {
        inFlight.delete(call.tabSeq);
      },
    };
  }

  // An outcome is stamped with the time it was seen (`end`), not the time it is stored: the
  // engine orders writes by these times.
  function settle(promise, call, order) {
    return promise.then(
      (res) => { order.seen(call); return { status: res.ok ? "ok" : "failed", httpStatus: res.status, end: Date.now() }; },
      () => { order.seen(call); return { status: "unknown", httpStatus: 0, end: Date.now() }; },
    );
  }

  if (inServiceWorker) {
    // Loaded by static/capture_sw.js (importScripts): it takes what it shares with the page.
    self.__backstayCaptureParts = { CHANNEL, newId, describe, holdLock, makeWriter, kvWrite, entryOf, writeOrder, settle };
    return;
  }

  const tab = newId();
  const channel = "BroadcastChannel" in window ? new BroadcastChannel(CHANNEL) : null;
  const stats = { recorded: 0, withoutBody: 0, failed: 0, lastError: null };
  const order = writeOrder();
  holdLock(tab);

  // ---- the journal: in the worker, or in the page if the worker cannot run ----------------
  // Each write is tracked here until its outcome is recorded, so that a worker that fails
  // hands its unfinished writes to the page's own writer.
  // id → {entry, body, seq, outcome, added: {resolve, reject}, askedAt (when the worker was last
  // sent something it has not answered yet), outcomePosted}
  const tracked = new Map();
  let nextId = 1;
  let inPage = null; // the page's writer, once the worker failed
  let worker = null;
  let workerUrl = null;
  let workerReady = false;
  let workerStartedAt = null;

  function startWorker() {
    if (typeof Worker === "undefined" || typeof Blob === "undefined" || !URL.createObjectURL) return null;
    try {
      const source = `"use strict";(${workerMain.toString()})((${makeWriter.toString()})());`;
      const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
      const started = new Worker(url, { name: "backstay-journal" });
      workerUrl = url; // revoked once the worker says it started
      started.onmessage = (event) => heard(event.data);
      started.onmessageerror = () => workerFailed("a message of the journal worker could not be read");
      started.onerror = (event) => { if (event.preventDefault) event.preventDefault(); workerFailed(event.message || "the journal worker stopped"); };
      return started;
    } catch (error) {
      console.warn("Backstay records writes in the page (no journal worker):", error);
      return null;
    }
  }

  function heard(message) {
    if (message.type === "ready") {
      workerReady = true;
      if (workerUrl) URL.revokeObjectURL(workerUrl);
      workerUrl = null;
      return;
    }
    if (message.type === "unreadable") {
      workerFailed("the journal worker could not read a write");
      return;
    }
    const write = tracked.get(message.id);
    if (!write) return;
    write.askedAt = null;
    if (message.type === "added") {
      write.seq = message.seq;
      if (write.outcomePosted) write.askedAt = Date.now();
      if (message.withoutBody) stats.withoutBody += 1;
      write.body = null;
      write.added.resolve(message.seq);
    } else if (message.type === "recorded") {
      tracked.delete(message.id);
      recorded(message.seq, write.entry.key);
    } else if (message.type === "failed") {
      tracked.delete(message.id);
      write.added.reject(new Error(message.message));
      failed(message.message, `write to ${write.entry.key}`);
    }
  }

  // A worker that never starts, or stops answering without an error event, is given up too.
  function watchWorker() {
    const timer = setInterval(() => {
      if (inPage) { clearInterval(timer); return; }
      const now = Date.now();
      if (!workerReady && now - workerStartedAt > WORKER_START_MS) {
        workerFailed("the journal worker did not start");
      } else if ([...tracked.values()].some((write) => write.askedAt !== null && now - write.askedAt > WORKER_ANSWER_MS)) {
        workerFailed("the journal worker stopped answering");
      }
    }, WORKER_START_MS / 2);
  }

  // The worker could not start or stopped: the page records what it left unfinished, in order.
  // (Should the worker have stored an entry whose answer never came, the journal holds it twice;
  // the copy without an outcome is settled by reading the key back.)
  function workerFailed(why) {
    if (inPage) return;
    console.warn(`Backstay records writes in the page (${why})`);
    if (worker) { try { worker.terminate(); } catch (_) { /* gone */ } }
    worker = null;
    inPage = makeWriter();
    const unfinished = [...tracked.values()];
    tracked.clear();
    for (const write of unfinished) {
      finish(write, write.seq !== null ? Promise.resolve(write.seq) : addInPage(write));
    }
  }

  // Adds a write's entry with the page's own writer; resolves with its seq.
  function addInPage(write) {
    return inPage.add(write.entry, write.body).then((result) => {
      if (result.withoutBody) stats.withoutBody += 1;
      write.added.resolve(result.seq);
      return result.seq;
    });
  }

  // Records the outcome once both the entry and the outcome are known (the page's writer).
  function finish(write, seq) {
    seq.then(null, (error) => write.added.reject(error));
    Promise.all([seq, write.outcome]).then(([known, result]) => inPage.outcome(known, result).then(() => recorded(known, write.entry.key)))
      .catch((error) => failed(error, `write to ${write.entry.key}`));
  }

  // Adds an entry with its body (a value or a promise of one) and, once known, its outcome.
  // Returns a promise of the entry's seq.
  let posting = Promise.resolve();
  function journal(entry, body, outcome) {
    let resolve;
    let reject;
    const added = new Promise((yes, no) => { resolve = yes; reject = no; });
    const write = { entry, body: null, seq: null, outcome, added: { resolve, reject }, askedAt: null, outcomePosted: false };
    const id = nextId++;
    // In call order, once the body is known (a Request's body is read from its clone).
    posting = posting.then(() => Promise.resolve(body).catch(() => null)).then((value) => {
      write.body = value === undefined ? null : value;
      if (inPage) {
        // The page's writer encodes and stores a body itself: once the page is idle.
        return idle().then(() => finish(write, addInPage(write)));
      }
      tracked.set(id, write);
      const big = typeof write.body === "string" && write.body.length > PART_CHARS;
      return (big ? postInParts(id, write.body) : Promise.resolve()).then(() => {
        if (!worker) return; // it failed meanwhile: the page's writer has taken the write over
        worker.postMessage({ type: "entry", id, entry, body: big ? null : write.body });
        write.askedAt = Date.now();
        outcome.then((result) => {
          if (!worker || !tracked.has(id)) return;
          worker.postMessage({ type: "outcome", id, outcome: result });
          write.outcomePosted = true;
          if (write.seq !== null) write.askedAt = Date.now();
        });
      });
    });
    return added;
  }

  function idle() {
    return new Promise((resolve) => whenIdle(resolve));
  }

  // Copying a 15 MB string to the worker takes the page some 30 ms: a big body goes in parts of
  // PART_CHARS (a few ms each) in idle periods, as many as each has room for, so that no task or
  // frame of the page grows long from it (slicing a string does not copy it). One part per idle
  // period would leave a 15 MB body 0.8 s behind its write: Chromium starts a new idle period
  // only every 50 ms.
  function postInParts(id, text) {
    return new Promise((resolve) => {
      let at = 0;
      const post = (deadline) => {
        do {
          if (!worker) { resolve(); return; }
          worker.postMessage({ type: "part", id, text: text.slice(at, at + PART_CHARS) });
          at += PART_CHARS;
        } while (at < text.length && (hurrying || roomFor(deadline)));
        if (at < text.length) whenIdle(post);
        else resolve();
      };
      whenIdle(post);
    });
  }

  // Whether an idle period (a requestIdleCallback deadline) has room for one more part.
  function roomFor(deadline) {
    return Boolean(deadline) && !deadline.didTimeout && deadline.timeRemaining() > PART_ROOM_MS;
  }

  // The body as the server receives it, for the journal writer: a string (sending it encodes it
  // as UTF-8, lone surrogates becoming U+FFFD; the engine reads it the same way), a Blob, a copy
  // of the bytes, a promise of a Blob, or null when it cannot be kept without consuming it. A
  // string is handed over as it is: copying it to the worker costs the page far less than
  // encoding it.
  function bodyOf(body) {
    if (body === undefined || body === null) return null;
    if (typeof body === "string" || body instanceof Blob) return body;
    if (body instanceof ArrayBuffer) return body.slice(0);
    if (ArrayBuffer.isView(body)) return body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength);
    if (body instanceof URLSearchParams) return body.toString();
    return null; // FormData, ReadableStream, Document: the live value will say what was written
  }

  // ---- recording --------------------------------------------------------------------------
  function failed(error, what) {
    stats.failed += 1;
    stats.lastError = `${what}: ${error && error.name ? error.name + ": " : ""}${(error && error.message) || error}`;
    console.error("Backstay could not record a write in its journal:", error);
    window.dispatchEvent(new CustomEvent("backstay:capture-error", { detail: { message: stats.lastError } }));
  }

  // The engine is told of new entries once the page is idle: it then works beside the page,
  // not in the moments right after a write when the PMS renders or sends its next write.
  // Once the page is being left (or hidden, and may be discarded) nothing waits any more: what
  // is waiting for an idle moment is done at once.
  let hurrying = false;
  const waitingForIdle = new Set();
  function whenIdle(work) {
    if (hurrying) { work(); return; }
    const run = (deadline) => { if (waitingForIdle.delete(run)) work(deadline); };
    waitingForIdle.add(run);
    if (typeof requestIdleCallback === "function") requestIdleCallback(run, { timeout: IDLE_TIMEOUT_MS });
    else setTimeout(run, 0);
  }
  function hurry() {
    hurrying = true;
    for (const run of [...waitingForIdle]) run();
  }
  window.addEventListener("pagehide", hurry);
  window.addEventListener("pageshow", () => { hurrying = false; });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") hurry();
    else hurrying = false;
  });

  function counted(seq, key) {
    stats.recorded += 1;
    window.dispatchEvent(new CustomEvent("backstay:captured", { detail: { seq, key } }));
  }
  function recorded(seq, key) {
    counted(seq, key);
    if (channel) whenIdle(() => channel.postMessage({ type: "journal", seq }));
  }

  let staleRestore = null;
  let lastAdded = Promise.resolve();

  function record(write, body, outcome, via, call) {
    const entry = entryOf(write, Date.now(), tab, via, call);
    // This page still holds data from before a restore it was told of (it did not re-read):
    // the engine flags the version of this write as possibly undoing that restore.
    if (staleRestore) entry.staleRestore = staleRestore;
    // Said at once, before any storage: if the tab closes before the entry is stored, the
    // engine still learns that this key was written (and reads it back).
    if (channel) channel.postMessage({ type: "intent", key: entry.key, collection: entry.collection, start: entry.start, tab, tabSeq: entry.tabSeq });
    const added = journal(entry, write.op === "set" ? body : null, outcome);
    lastAdded = added.catch(() => undefined);
    added.then((seq) => { if (channel) whenIdle(() => channel.postMessage({ type: "journal", seq, pending: true, tab, start: entry.start, key: entry.key, tabSeq: entry.tabSeq })); }, (error) => {
      // Not stored (the disk is full, the journal failed): once the write is answered (`end`:
      // when it is taken to have reached the store), the engine reads the key back.
      const why = describe(error);
      Promise.resolve(outcome).then((result) => {
        if (channel) channel.postMessage({ type: "unjournaled", key: entry.key, collection: entry.collection, start: entry.start, tab, tabSeq: entry.tabSeq, error: why, end: result.end });
      });
    });
  }

  function safely(work) {
    try { work(); } catch (error) { console.error("Backstay capture:", error); }
  }

  // ---- recording in this page: the journal worker, and wrappers of the calls that write ----
  // Installed at the start unless Backstay's service worker controls the page, and later should
  // it stop controlling it.
  let wrapped = false;
  function wrapPage() {
    if (wrapped) return;
    wrapped = true;
    workerStartedAt = Date.now();
    worker = startWorker();
    if (!worker) inPage = makeWriter();
    else watchWorker();
    const realFetch = window.fetch.bind(window);
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
          if (init && init.body !== undefined && init.body !== null) body = bodyOf(init.body);
          else if (isRequest && input.body) body = input.clone().blob();
        }
      });
      const call = write ? order.begin() : null;
      const response = realFetch(input, init);
      if (write) safely(() => record(write, body, settle(response, call, order), "fetch", call));
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
          const call = order.begin();
          const outcome = new Promise((resolve) => {
            this.addEventListener("loadend", () => {
              order.seen(call);
              const status = this.status;
              const end = Date.now();
              resolve(status === 0 ? { status: "unknown", httpStatus: 0, end }
                : { status: status >= 200 && status < 300 ? "ok" : "failed", httpStatus: status, end });
            }, { once: true });
          });
          record(write, write.op === "set" ? bodyOf(body) : null, outcome, "xhr", call);
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
          safely(() => {
            const call = order.begin();
            // A beacon is never answered: it counts as in flight until it is taken to have arrived.
            setTimeout(() => order.seen(call), queued ? BEACON_SETTLE_MS : 0);
            record(write, bodyOf(data), Promise.resolve(queued
              ? { status: "unknown", httpStatus: 0, end: Date.now() + BEACON_SETTLE_MS }
              : { status: "failed", httpStatus: 0, end: Date.now() }), "beacon", call);
          });
        }
        return queued;
      };
    }
  }

  // ---- recording in Backstay's service worker ------------------------------------------------
  // Where chosen, it records the writes of the pages it controls (static/capture_sw.js), and
  // tells each page what became of its writes. It is registered once the page has loaded; the
  // page after the next load is controlled by it. A page it does not control (this first one) never comes
  // under it (the worker does not claim pages), so no write is recorded twice.
  const CAPTURE_CHOICE = "backstay:capture";
  const serviceWorkers = "serviceWorker" in navigator ? navigator.serviceWorker : null;
  const ownUrl = document.currentScript && document.currentScript.src;
  const serviceWorkerUrl = ownUrl ? new URL("capture_sw.js", ownUrl).href : null;
  // Backstay's worker, wherever this page loaded capture.js from (a page it controls must not
  // record its writes a second time).
  const isOurs = (worker) => {
    if (!worker) return false;
    const url = new URL(worker.scriptURL);
    return url.origin === location.origin && url.pathname.endsWith("/capture_sw.js");
  };
  let viaServiceWorker = Boolean(serviceWorkers && isOurs(serviceWorkers.controller));

  function listenToServiceWorker() {
    serviceWorkers.addEventListener("message", (event) => {
      const message = event.data || {};
      if (message.type === "backstay-recorded") counted(message.seq, message.key);
      else if (message.type === "backstay-without-body") stats.withoutBody += 1;
      else if (message.type === "backstay-failed") failed(message.message, `write to ${message.key}`);
    });
    serviceWorkers.startMessages();
    // Another service worker took over (this site's own, or none): this page records itself.
    serviceWorkers.addEventListener("controllerchange", () => {
      if (viaServiceWorker && !isOurs(serviceWorkers.controller)) {
        viaServiceWorker = false;
        console.warn("Backstay records writes in the page (its service worker no longer controls it)");
        wrapPage();
      }
    });
  }

  // Recording in the service worker is chosen per browser (localStorage "backstay:capture" set
  // to "service-worker"): it leaves the PMS's work after a save to the PMS and costs the page
  // nothing on small hotels, but on a large one every save's body passes through the worker
  // (README, "How writes are captured", has the measurements). Chosen, the worker is registered
  // for the whole origin, unless the site has a service worker of its own there (one scope
  // holds one worker: Backstay never replaces the site's); not chosen, Backstay's worker is
  // unregistered, so that the next load records in the page.
  function chosen() {
    try { return localStorage.getItem(CAPTURE_CHOICE) === "service-worker"; } catch (_) { return false; }
  }

  function registerServiceWorker() {
    const scope = new URL("/", location.href).href;
    serviceWorkers.getRegistrations().then((registrations) => {
      const there = registrations.find((registration) => registration.scope === scope);
      const scripts = there ? [there.active, there.waiting, there.installing].filter(Boolean) : [];
      if (!chosen()) {
        return there && scripts.length && scripts.every(isOurs) ? there.unregister() : undefined;
      }
      if (scripts.some((script) => !isOurs(script))) {
        console.info("Backstay records writes in the page: this site has a service worker of its own");
        return undefined;
      }
      return serviceWorkers.register(serviceWorkerUrl, { scope, updateViaCache: "none" });
    }).catch((error) => console.warn("Backstay records writes in the page (its service worker could not be registered):", error));
  }

  // Resolves once the service worker has stored the entry of every write it received so far.
  function serviceWorkerFlushed() {
    const controller = serviceWorkers && serviceWorkers.controller;
    if (!viaServiceWorker || !controller) return Promise.resolve();
    return new Promise((resolve) => {
      const answer = new MessageChannel();
      answer.port1.onmessage = () => resolve();
      controller.postMessage({ type: "backstay-flush" }, [answer.port2]);
    });
  }

  if (!viaServiceWorker) wrapPage();
  if (serviceWorkers && serviceWorkerUrl) {
    listenToServiceWorker();
    if (document.readyState === "complete") registerServiceWorker();
    else window.addEventListener("load", registerServiceWorker, { once: true });
  }

  window.__backstayCapture = {
    stats,
    tab,
    // facade.js: a restore changed the data and this page did not read it again.
    markStale: (versionId) => {
      staleRestore = String(versionId);
      const controller = serviceWorkers && serviceWorkers.controller;
      if (viaServiceWorker && controller) controller.postMessage({ type: "backstay-stale", version: staleRestore });
    },
    // Resolves when every write captured so far has been added to the journal.
    flushed: () => Promise.all([lastAdded, serviceWorkerFlushed()]).then(() => undefined),
    // Where entries are written: "service-worker", "worker", or "page" when no worker could run.
    writer: () => (viaServiceWorker ? "service-worker" : inPage ? "page" : "worker"),
  };
})();
