// Backstay's service worker: records the Spark KV writes of the pages it controls.
//
// Registered by static/capture.js (whose journal writer it shares, by importScripts) for the whole
// origin. For each POST or DELETE of /_spark/kv/<key> on this origin made by a page (a window:
// Backstay's own workers, writing a restore, are not recorded, as a page records only its own
// calls) it sends the request on unchanged, and beside it stores the journal entry and the
// outcome, as capture.js does in a page (docs/FORMAT.md, "Journal"; `via` "service-worker"), and
// tells the page what became of it. Every other request goes to the network without waking it
// (a static route), so it costs nothing to the page's loads.
//
// It is the recorder of the writes it sends: `tab` names this worker, which holds the Web Lock
// "backstay-tab-<tab>" while it runs. It does not stop while a write is being recorded (the
// fetch event waits for it); should the browser stop it anyway, its unanswered writes are read
// back from the store, as a closed tab's are.
"use strict";
importScripts("capture.js");

(() => {
  const { CHANNEL, newId, describe, holdLock, makeWriter, kvWrite, entryOf, writeOrder, settle } = self.__backstayCaptureParts;
  const KV_PATHS = "/_spark/kv/*"; // a URL pattern of this origin
  // A body of at most this many bytes that is valid UTF-8 is kept as its text (as a page keeps
  // a string body of at most 64 Ki characters: capture.js makeWriter); any other as a Blob.
  const TEXT_BODY_BYTES = 64 * 1024;
  const tab = `sw-${newId()}`;
  holdLock(tab);
  const channel = new BroadcastChannel(CHANNEL);
  const writer = makeWriter();
  const order = writeOrder();
  const staleOf = new Map(); // page (client id) → the restore it was told of and did not read again
  const adding = new Set(); // writes received whose entry is not stored yet

  self.addEventListener("install", (event) => {
    event.waitUntil(Promise.all([self.skipWaiting(), routeOnlyWrites(event)]));
  });

  // Only the KV writes wake this worker; everything else the pages load goes straight to the
  // network. (Chromium applies these routes to pages, not to their workers: a worker's requests
  // still come to the fetch event, which leaves them to the network.)
  function routeOnlyWrites(event) {
    if (typeof event.addRoutes !== "function" || typeof URLPattern === "undefined") return Promise.resolve();
    return event.addRoutes([
      { condition: { urlPattern: KV_PATHS, requestMethod: "POST" }, source: "fetch-event" },
      { condition: { urlPattern: KV_PATHS, requestMethod: "DELETE" }, source: "fetch-event" },
      { condition: { urlPattern: new URLPattern({}) }, source: "network" },
    ]).catch((error) => console.warn("Backstay's service worker sees every request (no static routes):", error));
  }

  self.addEventListener("message", (event) => {
    const message = event.data || {};
    const page = event.source && event.source.id;
    if (message.type === "backstay-stale" && page) {
      staleOf.set(page, String(message.version));
    } else if (message.type === "backstay-flush" && event.ports[0]) {
      const answer = event.ports[0];
      event.waitUntil(Promise.allSettled([...adding]).then(() => answer.postMessage({ type: "flushed" })));
    }
  });

  self.addEventListener("fetch", (event) => {
    const request = event.request;
    let write = null;
    let copy = null;
    try {
      write = kvWrite(request.url, request.method, request.headers);
      if (write && write.op === "set") copy = request.clone(); // before sending consumes it
    } catch (error) {
      console.error("Backstay's service worker:", error);
    }
    if (!write) return;
    const start = Date.now();
    const call = order.begin();
    const response = fetch(request);
    event.respondWith(response);
    const added = add(event.clientId, write, start, call, copy);
    adding.add(added);
    added.finally(() => adding.delete(added));
    event.waitUntil(finish(event.clientId, write, start, added, settle(response, call, order)));
  });

  // Stores the write's entry; resolves with its seq and whether its body was kept, or null when
  // the write is not recorded here (a worker's); rejects when it could not be stored.
  async function add(page, write, start, call, copy) {
    const client = page ? await self.clients.get(page).catch(() => null) : null;
    if (client && client.type !== "window") return null;
    const entry = entryOf(write, start, tab, "service-worker", call);
    if (staleOf.has(page)) entry.staleRestore = staleOf.get(page);
    // Said before any storage: should this worker be stopped before the entry is stored, the
    // engine still learns that this key was written (and reads it back).
    channel.postMessage({ type: "intent", key: entry.key, collection: entry.collection, start, tab });
    const body = copy ? await bodyOf(copy) : null;
    return writer.add(entry, body);
  }

  async function finish(page, write, start, added, outcome) {
    let stored;
    try {
      stored = await added;
    } catch (error) {
      // Not stored (the disk is full, the journal failed): once the write is answered, the
      // engine reads the key back.
      tell(page, { type: "backstay-failed", key: write.key, message: describe(error) });
      const result = await outcome;
      channel.postMessage({ type: "unjournaled", key: write.key, collection: write.collection, start, tab, error: describe(error), end: result.end });
      return;
    }
    if (!stored) return;
    channel.postMessage({ type: "journal", seq: stored.seq, pending: true, tab, start, key: write.key });
    if (stored.withoutBody) tell(page, { type: "backstay-without-body" });
    try {
      await writer.outcome(stored.seq, await outcome);
    } catch (error) {
      tell(page, { type: "backstay-failed", key: write.key, message: describe(error) });
      return;
    }
    channel.postMessage({ type: "journal", seq: stored.seq });
    tell(page, { type: "backstay-recorded", seq: stored.seq, key: write.key });
  }

  // The body as the server receives it: its text when short and valid UTF-8, else its bytes.
  async function bodyOf(request) {
    let blob;
    try {
      blob = await request.blob();
    } catch (_) {
      return null; // not readable (a stream that failed): the store will say what was written
    }
    if (blob.size > TEXT_BODY_BYTES) return blob;
    try {
      return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(await blob.arrayBuffer());
    } catch (_) {
      return blob;
    }
  }

  function tell(page, message) {
    if (!page) return;
    self.clients.get(page).then((client) => { if (client) client.postMessage(message); }, () => undefined);
  }
})();
