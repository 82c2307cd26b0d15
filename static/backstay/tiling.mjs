// The first reading of a large module, done in the browser (runs in the engine's
// worker, called from Python: app/browser/spark_kv.py).
//
// A module the PMS wrote is an array whose text is, element by element, what JSON.stringify
// writes for each element: Backstay's canonical text (docs/FORMAT.md, "Canonical text").
// Checking that here (canonical_scan.mjs reads the text once, as JSON.parse and JSON.stringify
// would, without building its values) costs a fraction of reading it element by element in
// Python, and tells Python where each element is and what its record id is: Python then only
// hashes the elements (app/core/formats/tiling.py), and checks a sample of them itself.

import { scanElements } from "./canonical_scan.mjs";
import { forgetPrecompressed, precompress } from "./gzip.mjs";
import { hex, plainError } from "./idb.mjs";

const LONE_SURROGATE = /\p{Cs}/u;

// Where the elements of `text` are, if it is an array of at least `minCount` elements whose text
// is exactly each element's JSON.stringify, joined by commas between brackets; null otherwise
// (and for anything JSON.parse cannot read or JSON.stringify write back: Python then reads it).
// Offsets count code points (as Python's str does). Ids are encoded as RecordIds.encode does.
export function tile(text, minCount) {
  const found = scanElements(text);
  if (found === null || found.starts.length < minCount || found.starts.length === 0) return null;
  const count = found.starts.length;
  const ends = new Int32Array(count);
  const absent = new Uint8Array(count);
  const ids = [];
  const seen = new Set();
  let records = true;
  let idEnd = 0;
  for (let i = 0; i < count; i++) {
    const id = found.ids[i];
    if (id === null) {
      absent[i] = 1;
      records = false;
    } else {
      // A lone surrogate has no UTF-8 (TextEncoder would write U+FFFD): Python reads these.
      if (LONE_SURROGATE.test(id)) return null;
      ids.push(id);
      idEnd += codePoints(id);
      if (seen.has(id)) records = false;
      seen.add(id);
    }
    ends[i] = idEnd;
  }
  const table = new Uint8Array(5 * count);
  table.set(new Uint8Array(ends.buffer), 0); // little-endian, as every browser that runs this
  table.set(absent, 4 * count);
  return {
    starts: Int32Array.from(found.starts), lengths: Int32Array.from(found.lengths), idTable: table,
    idText: new TextEncoder().encode(ids.join("")), records, length: found.length,
  };
}

// Code points in a string: its UTF-16 units less one per surrogate pair.
function codePoints(text) {
  let pairs = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) { pairs++; i++; }
    }
  }
  return text.length - pairs;
}

// GET `url` (a key of the live store): {status, bytes}, `bytes` the body as sent (absent unless
// the status is 2xx). A body large enough is handed at once to gzip.mjs's helper thread, which
// compresses it for the baseline's checkpoint while this thread tiles it and Python indexes it;
// not once `signal` is aborted (the reader was closed: no checkpoint will ask for it).
async function fetchBody(url, timeoutMs, signal) {
  const response = await fetch(url, {
    cache: "no-store", signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
  });
  if (!response.ok) return { status: response.status, bytes: undefined };
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (!signal.aborted) precompress(bytes);
  return { status: response.status, bytes };
}

// A fetched body with {tiling, digest}: `tiling` is tile()'s answer for it (null for a module
// smaller than `minCount` elements or not tiled by its elements' JSON.stringify); `digest` is the
// SHA-256 hex of `bytes` when they are well-formed UTF-8 (so that the text Python decodes from
// them encodes back to them), hashed by WebCrypto while the text is tiled: Python need not hash
// the text again to name it (headText).
async function tileBody({ status, bytes }, minCount) {
  if (bytes === undefined) return { status, bytes, tiling: undefined, digest: undefined };
  let text = null;
  let hashing = null;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
    hashing = crypto.subtle.digest("SHA-256", bytes);
  } catch (_) {
    text = null; // not UTF-8: no digest; tiled as the browser decodes it
  }
  const large = bytes.byteLength >= minCount * 2;
  const decoded = text === null ? new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes) : text;
  let tiling = null;
  try {
    tiling = large ? tile(decoded, minCount) : null;
  } catch (_) {
    tiling = null; // anything unforeseen (out of memory): Python reads the module
  }
  const digest = hashing === null ? undefined : hex(await hashing);
  return { status, bytes, tiling: tiling || undefined, digest };
}

// How many bodies are fetched ahead of the one being tiled: the store sends the next while this
// thread tiles one (each body is held until it is read, so not more).
const AHEAD = 1;

// The reader of the first start's snapshot of `urls` (the keys of the live store): `read(i)` is
// fetchBody then tileBody of urls[i], read in order; each read fetches the next one ahead. A
// failed fetch rejects its read (with a plain Error) and no other. `close()` stops and drops
// what was read ahead and not asked for.
export function snapshotReader(urls, timeoutMs, minCount) {
  const bodies = new Map();
  const closing = new AbortController();
  const fetchAt = (i) => {
    if (i < urls.length && !bodies.has(i) && !closing.signal.aborted) {
      const body = fetchBody(urls[i], timeoutMs, closing.signal);
      body.catch(() => {}); // seen by its read
      bodies.set(i, body);
    }
  };
  return {
    async read(i) {
      for (let ahead = i; ahead <= i + AHEAD; ahead++) fetchAt(ahead);
      const body = bodies.get(i);
      bodies.delete(i);
      try {
        return await tileBody(await body, minCount);
      } catch (error) {
        throw plainError(error);
      }
    },
    close() {
      closing.abort();
      bodies.clear();
    },
  };
}

// Once the baseline is recorded (or failed): drop what the helper thread compressed that its
// checkpoint did not use (a module whose text was not canonical), and stop that thread. Returns
// how many of the checkpoint's blobs were compressed there.
export function releaseSnapshot() {
  return forgetPrecompressed();
}
