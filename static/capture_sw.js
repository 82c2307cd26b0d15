// Backstay's service worker: records the Spark KV writes of the pages it controls.
//
// Registered by static/capture.js (whose journal writer it shares, by importScripts) for the whole
// origin. For each POST or DELETE of /_spark/kv/<key> on this origin (by a page or its workers;
// not Backstay's own, marked X-Backstay-Writer: a restore records its own version) it says the
// write's "intent", sends the request on unchanged, and beside it stores the journal entry, in
// the order it sent them, and then the outcome, as capture.js does in a page (docs/FORMAT.md,
// "Journal"; `recorder` "service-worker"), and tells the page what became of it. Static routes
// leave every other request of the pages to the network without waking it.
//
// It is the recorder of the writes it sends: `tab` names this worker, which holds the Web Lock
// "backstay-tab-<tab>" while it runs. The fetch event waits for a write to be recorded, so the
// browser does not stop the worker idle before; should it stop it anyway (a crash, the browser's
// limit on a fetch event), the engine sees the lock gone and reads the key back, as it does for
// a closed tab's unanswered write.
"use strict";
importScripts("capture.js");

(() => {
  const { CHANNEL, newId, describe, holdLock, makeWriter, kvWrite, entryOf, writeOrder, settle } = self.__backstayCaptureParts;
  const KV_PATHS = "/_spark/kv/*"; // a URL pattern of this origin (any query)
  // A body of at most this many bytes that is valid UTF-8 is kept as its text (as a page keeps
  // a string body of at most 64 Ki characters: capture.js makeWriter); any other as a Blob.
  const TEXT_BODY_BYTES = 64 * 1024;
  // The restore a page was told of and did not read its data again after, by page (client id):
  // kept beside the journal too, so that it outlives this worker (the browser stops it when idle).
  const STALE = "stale/";
  const tab = `sw-${newId()}`;
  holdLock(tab);
  const channel = new BroadcastChannel(CHANNEL);
  const writer = makeWriter();
  const order = writeOrder();
  const staleOf = new Map();
  const staleRead = recallStale();
  const adding = new Set(); // writes received whose entry is not stored yet
  let posting = Promise.resolve(); // entries are added in the order the writes were sent

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

  function recallStale() {
    return writer.recall(STALE).then(async (notes) => {
      const open = new Set((await self.clients.matchAll({ includeUncontrolled: true, type: "all" })).map((c) => c.id));
      for (const [name, version] of notes) {
        const page = name.slice(STALE.length);
        if (open.has(page)) staleOf.set(page, version);
        else writer.remember(name, undefined).catch(() => undefined); // that page is gone
      }
    }).catch((error) => console.warn("Backstay's service worker could not read which pages are stale:", error));
  }

  self.addEventListener("message", (event) => {
    const message = event.data || {};
    const page = event.source && event.source.id;
    if (message.type === "backstay-stale" && page) {
      const version = String(message.version);
      staleOf.set(page, version);
      event.waitUntil(writer.remember(STALE + page, version).catch((error) => {
        tell(page, { type: "backstay-failed", key: "(a restore's mark)", message: describe(error) });
      }));
    } else if (message.type === "backstay-flush" && event.ports[0]) {
      const answer = event.ports[0];
      event.waitUntil(Promise.allSettled([...adding]).then(() => answer.postMessage({ type: "flushed" })));
    }
  });

  self.addEventListener("fetch", (event) => {
    const request = event.request;
    let write = null;
    try {
      write = kvWrite(request.url, request.method, request.headers);
    } catch (error) {
      console.error("Backstay's service worker:", error);
    }
    if (!write) return;
    const call = order.begin();
    const entry = { ...entryOf(write, Date.now(), tab, "fetch", call), recorder: "service-worker" };
    // Said before the write is sent: should this worker be stopped before the entry is stored,
    // the engine still learns that this key was written (and reads it back).
    channel.postMessage({ type: "intent", key: entry.key, collection: entry.collection, start: entry.start, tab, tabSeq: entry.tabSeq });
    // The body is taken once, as a Blob (the browser's own copy of it, not copied again): the
    // request is sent on with it and the journal keeps it. (Reading a clone instead makes the
    // body a stream: the write then reaches the server later, and the body is held twice.)
    const blob = write.op === "set" ? request.blob() : null;
    const response = blob ? blob.then((bytes) => fetch(new Request(request, { body: bytes }))) : fetch(request);
    event.respondWith(response);
    const body = blob ? blob.then(keptBody, () => null) : Promise.resolve(null);
    const added = posting.then(() => Promise.all([body, staleRead])).then(([value]) => {
      const stale = staleOf.get(event.clientId);
      return writer.add(stale ? { ...entry, staleRestore: stale } : entry, value);
    });
    posting = added.catch(() => undefined);
    adding.add(added);
    added.finally(() => adding.delete(added)).catch(() => undefined);
    event.waitUntil(finish(event.clientId, entry, added, settle(response, call, order)));
  });

  async function finish(page, entry, added, outcome) {
    let stored;
    try {
      stored = await added;
    } catch (error) {
      // Not stored (the disk is full, the journal failed): once the write is answered, the
      // engine reads the key back.
      tell(page, { type: "backstay-failed", key: entry.key, message: describe(error) });
      const result = await outcome;
      channel.postMessage({ type: "unjournaled", key: entry.key, collection: entry.collection, start: entry.start, tab, tabSeq: entry.tabSeq, error: describe(error), end: result.end });
      return;
    }
    channel.postMessage({ type: "journal", seq: stored.seq, pending: true, tab, start: entry.start, key: entry.key, tabSeq: entry.tabSeq });
    if (stored.withoutBody) tell(page, { type: "backstay-without-body" });
    try {
      await writer.outcome(stored.seq, await outcome);
    } catch (error) {
      tell(page, { type: "backstay-failed", key: entry.key, message: describe(error) });
      return;
    }
    channel.postMessage({ type: "journal", seq: stored.seq });
    tell(page, { type: "backstay-recorded", seq: stored.seq, key: entry.key });
  }

  // The body as the journal keeps it: its text when short and valid UTF-8, else its bytes.
  async function keptBody(blob) {
    if (blob.size > TEXT_BODY_BYTES) return blob;
    try {
      return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(await blob.arrayBuffer());
    } catch (_) {
      return blob;
    }
  }

  // Told to the page that made the write (its banner), or, for a worker's write or a page that
  // has closed, to every open page.
  function tell(page, message) {
    (page ? self.clients.get(page) : Promise.resolve(null)).then((client) => {
      if (client && client.type === "window") return [client];
      return self.clients.matchAll({ type: "window" });
    }).then((pages) => { for (const each of pages) each.postMessage(message); }, () => undefined);
  }
})();
