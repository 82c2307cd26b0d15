"""Put a version store into a browser profile as an earlier Backstay would have left it there.

Backstay keeps its history in the IndexedDB database "backstay" (version 1) of the app's
origin: one object store per collection (versions, payloads, blobs, head, meta), out-of-line
string keys, every value a Uint8Array of its own (app/browser/idb_store.py, static/backstay/
idb.mjs). Its capture journal is the database "backstay-journal" (version 2, static/capture.js).

Call these on a page of the app's origin on which the engine does not run, before the app page
is opened (the engine opens the database as it starts):

    open_origin_without_engine(page, server.url)   # a static file of the origin
    load_store_into_browser(page, collections)      # {collection: {key: bytes}}
    load_journal_into_browser(page, collections)    # the journal the head pointer counts in
    page.goto(server.url + "/")
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

DB_NAME = "backstay"
DB_VERSION = 1
STORES = ("versions", "payloads", "blobs", "head", "meta")
JOURNAL_NAME = "backstay-journal"
JOURNAL_VERSION = 2
#: A file of the app's origin that starts no script: IndexedDB of the origin, no engine.
STATIC_PAGE = "/static/css/pms.css"

_LOAD_STORE_JS = """async ({name, version, stores, collections}) => {
  const db = await new Promise((resolve, reject) => {
    const req = indexedDB.open(name, version);
    req.onupgradeneeded = () => {
      for (const store of stores) {
        if (!req.result.objectStoreNames.contains(store)) req.result.createObjectStore(store);
      }
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
    req.onblocked = () => reject(new Error(`database ${name} is open elsewhere`));
  });
  try {
    const missing = Object.keys(collections).filter((store) => !db.objectStoreNames.contains(store));
    if (missing.length) throw new Error(`database ${name} (version ${db.version}) lacks ${missing}`);
    const bytes = (text) => {
      const binary = atob(text);
      const array = new Uint8Array(binary.length);  // its own buffer, as IdbStore stores it
      for (let i = 0; i < binary.length; i++) array[i] = binary.charCodeAt(i);
      return array;
    };
    const tx = db.transaction(Object.keys(collections), "readwrite", {durability: "strict"});
    const done = new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error || new Error("aborted"));
    });
    const counts = {};
    for (const [store, entries] of Object.entries(collections)) {
      const os = tx.objectStore(store);
      for (const [key, value] of Object.entries(entries)) os.put(bytes(value), key);
      counts[store] = Object.keys(entries).length;
    }
    await done;
    return counts;
  } finally {
    db.close();
  }
}"""

_LOAD_JOURNAL_JS = """async ({name, version, epoch, seq}) => {
  const db = await new Promise((resolve, reject) => {
    const req = indexedDB.open(name, version);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains("entries")) {
        db.createObjectStore("entries", {keyPath: "seq", autoIncrement: true});
      }
      if (!db.objectStoreNames.contains("outcomes")) db.createObjectStore("outcomes", {keyPath: "seq"});
      if (!db.objectStoreNames.contains("meta")) db.createObjectStore("meta");
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
    req.onblocked = () => reject(new Error(`database ${name} is open elsewhere`));
  });
  try {
    const tx = db.transaction(["entries", "meta"], "readwrite", {durability: "strict"});
    const done = new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error || new Error("aborted"));
    });
    tx.objectStore("meta").put({epoch, created: Date.now() - 86400000}, "epoch");
    if (seq > 0) {
      // Entries 1..seq were journaled and dropped once drained: the next one gets seq + 1.
      const entries = tx.objectStore("entries");
      entries.put({seq, key: "", collection: "", op: "set", initial: false, hasBody: false, body: null,
                   start: 0, tab: "", via: "fetch"});
      entries.delete(seq);
    }
    await done;
  } finally {
    db.close();
  }
}"""


def open_origin_without_engine(page: Any, origin: str) -> None:
    """Navigate ``page`` to a static file of ``origin`` (IndexedDB of the origin, no engine)."""
    page.goto(origin.rstrip("/") + STATIC_PAGE)


def _check_not_the_app(page: Any) -> None:
    if urlsplit(page.url).path in ("", "/", "/index.html"):
        raise RuntimeError("load the store from a page without the engine (open_origin_without_engine), "
                           "before the app page is opened")


def load_store_into_browser(page: Any, collections: Mapping[str, Mapping[str, bytes]]) -> dict[str, int]:
    """Write ``collections`` ({collection: {key: bytes}}) into the page origin's Backstay
    database exactly as IdbStore stores them, creating the database (version 1, its five
    object stores) when absent. Returns how many values each collection got."""
    _check_not_the_app(page)
    unknown = set(collections) - set(STORES)
    if unknown:
        raise ValueError(f"not collections of the {DB_NAME} database: {sorted(unknown)}")
    encoded = {name: {key: base64.b64encode(value).decode("ascii") for key, value in entries.items()}
               for name, entries in collections.items()}
    counts = page.evaluate(_LOAD_STORE_JS, {"name": DB_NAME, "version": DB_VERSION, "stores": list(STORES),
                                            "collections": encoded})
    return dict(counts)


def load_journal_into_browser(page: Any, collections: Mapping[str, Mapping[str, bytes]]) -> tuple[str, int]:
    """Create the capture journal the store's head pointer (``meta/head``) counts in: its epoch,
    and no entries, the last one drained being the head pointer's journalSeq (so the next write
    gets the seq after it, as in the browser that wrote the store). Without it the engine finds
    a journal of another epoch and takes it for one that was deleted. Returns (epoch, seq).
    ``meta/head`` is taken as the whole pointer: true of stores of formats 1 to 3 (in format 4
    the versions after it may carry a later journal seq)."""
    _check_not_the_app(page)
    pointer = json.loads(collections["meta"]["head"])
    epoch, seq = str(pointer.get("journalEpoch") or ""), int(pointer.get("journalSeq") or 0)
    if not epoch:
        raise ValueError("the head pointer names no journal epoch")
    page.evaluate(_LOAD_JOURNAL_JS, {"name": JOURNAL_NAME, "version": JOURNAL_VERSION, "epoch": epoch,
                                     "seq": seq})
    return epoch, seq


#: The keys whose head texts the engine has not written yet: those the head pointer's records
#: (meta/head/<key>) say are stale, followed by the versions after the one they name, each
#: carrying the records of the keys it changed (docs/FORMAT.md, "Head pointer").
STALE_HEADS_JS = """() => new Promise((resolve, reject) => {
    const open = indexedDB.open('backstay');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
        const db = open.result;
        const tx = db.transaction(['meta', 'versions']);
        const parse = (bytes) => JSON.parse(new TextDecoder().decode(bytes));
        const range = IDBKeyRange.bound('head', 'head\\uffff');
        const names = tx.objectStore('meta').getAllKeys(range);
        const values = tx.objectStore('meta').getAll(range);
        values.onsuccess = () => {
            const records = {};
            names.result.forEach((name, at) => { records[name] = parse(values.result[at]); });
            const stale = new Set(records.head.staleHeads || []);
            for (const [name, record] of Object.entries(records)) {
                if (name.startsWith('head/') && record.stale) stale.add(name.slice(5));
            }
            let current = records.head.versionId;
            const after = tx.objectStore('versions').getAll(IDBKeyRange.lowerBound(current || '', true));
            after.onsuccess = () => {
                for (const version of after.result.map(parse)) {
                    if (version.parentId !== current || !version.head) continue;
                    current = version.id;
                    for (const [key, record] of Object.entries(version.head.keys)) {
                        if (record && record.stale) stale.add(key); else stale.delete(key);
                    }
                }
                db.close();
                resolve([...stale].sort());
            };
            after.onerror = () => reject(after.error);
        };
        values.onerror = () => reject(values.error);
    };
})"""
