// static/backstay/gzip.mjs's compressing ahead, in node with a stand-in for the browser's Worker
// (the real one is used by e2e/test_capture.py): writes one JSON line per case, {case, ok, ...}
// (tests/unit/browser/test_gzip_ahead.py).
import { gunzipSync } from "node:zlib";

import {
  ANSWER_WITHIN_MS, forgetPrecompressed, gzip, gzipHere, PRECOMPRESS_AT, precompress,
} from "../../../../static/backstay/gzip.mjs";
import { snapshotReader } from "../../../../static/backstay/tiling.mjs";

// A Worker that compresses on this thread, as gzip_worker.mjs does on its own; or one that
// fails as `how` says.
let started = 0;
function fakeWorker(how) {
  return class {
    constructor() {
      started++;
      if (how === "refused") throw new Error("no module workers here");
      this.terminated = false;
    }
    postMessage(message) {
      if (how === "postMessage throws") throw new Error("could not clone");
      if (how === "never answers") return;
      setTimeout(async () => {
        if (this.terminated) return;
        if (how === "crashes") {
          this.onerror({ message: "crashed", preventDefault() {} });
          return;
        }
        if (how === "answers an error") {
          this.onmessage({ data: { id: message.id, error: "out of memory" } });
          return;
        }
        this.onmessage({ data: { id: message.id, gzipped: await gzipHere(message.bytes) } });
      }, 5);
    }
    terminate() { this.terminated = true; }
  };
}

function body(size, seed) {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = 97 + ((i * seed) % 23);
  return bytes;
}

const same = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
const lines = [];

// For a helper that never answers, the wait for its answer runs out at once.
const realSetTimeout = globalThis.setTimeout;
const hurried = (callback, ms, ...rest) => realSetTimeout(callback, ms >= ANSWER_WITHIN_MS ? 1 : ms, ...rest);

for (const how of ["works", "refused", "postMessage throws", "crashes", "answers an error", "never answers"]) {
  globalThis.setTimeout = how === "never answers" ? hurried : realSetTimeout;
  globalThis.Worker = fakeWorker(how);
  const fetched = body(PRECOMPRESS_AT + 17, 7);
  precompress(fetched);
  const other = body(PRECOMPRESS_AT + 17, 11); // the same length, other bytes
  const otherGzipped = await gzip(other);
  const gzipped = await gzip(fetched.slice()); // the same bytes, another array (as from Python)
  const again = await gzip(fetched.slice()); // asked twice: the second is compressed here
  const used = forgetPrecompressed();
  lines.push({
    case: how, used,
    restored: same(gunzipSync(gzipped), fetched) && same(gunzipSync(again), fetched),
    otherRestored: same(gunzipSync(otherGzipped), other),
  });
}

globalThis.setTimeout = realSetTimeout;
globalThis.Worker = fakeWorker("works");
precompress(body(1000, 3)); // too small to hand over
const small = await gzip(body(1000, 3));
lines.push({ case: "small", used: forgetPrecompressed(), restored: same(gunzipSync(small), body(1000, 3)) });

precompress(body(PRECOMPRESS_AT, 5));
const dropped = forgetPrecompressed(); // not asked for: dropped, and the helper stopped
const afterwards = await gzip(body(PRECOMPRESS_AT, 5));
lines.push({ case: "forgotten", used: dropped + forgetPrecompressed(),
  restored: same(gunzipSync(afterwards), body(PRECOMPRESS_AT, 5)) });

// A reader closed after a failed read: the body it was fetching ahead is neither kept nor handed
// to a helper (a store that stays down would otherwise hold them for the page's life).
globalThis.Worker = fakeWorker("works");
started = 0;
globalThis.fetch = (url, { signal }) => new Promise((resolve, reject) => {
  if (url === "u0") {
    resolve({ ok: false, status: 500 });
    return;
  }
  const timer = realSetTimeout(() => resolve({
    ok: true, status: 200, arrayBuffer: async () => body(PRECOMPRESS_AT, 13).buffer,
  }), 50);
  signal.addEventListener("abort", () => { clearTimeout(timer); reject(signal.reason); });
});
const reader = snapshotReader(["u0", "u1"], 10_000, 1000);
const failed = await reader.read(0);
reader.close();
await new Promise((resolve) => realSetTimeout(resolve, 120));
lines.push({ case: "closed reader", status: failed.status, helpers: started, used: forgetPrecompressed() });

process.stdout.write(lines.map((line) => JSON.stringify(line)).join("\n"));
