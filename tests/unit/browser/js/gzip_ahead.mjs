// static/backstay/gzip.mjs's compressing ahead, in node with a stand-in for the browser's Worker
// (the real one is used by e2e/test_capture.py): writes one JSON line per case, {case, ok, ...}
// (tests/unit/browser/test_gzip_ahead.py).
import { gunzipSync } from "node:zlib";

import { forgetPrecompressed, gzip, gzipHere, PRECOMPRESS_AT, precompress } from "../../../../static/backstay/gzip.mjs";

// A Worker that compresses on this thread, as gzip_worker.mjs does on its own; or one that
// fails as `how` says.
function fakeWorker(how) {
  return class {
    constructor() {
      if (how === "refused") throw new Error("no module workers here");
      this.terminated = false;
    }
    postMessage(message) {
      if (how === "postMessage throws") throw new Error("could not clone");
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

for (const how of ["works", "refused", "postMessage throws", "crashes", "answers an error"]) {
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

globalThis.Worker = fakeWorker("works");
precompress(body(1000, 3)); // too small to hand over
const small = await gzip(body(1000, 3));
lines.push({ case: "small", used: forgetPrecompressed(), restored: same(gunzipSync(small), body(1000, 3)) });

precompress(body(PRECOMPRESS_AT, 5));
const dropped = forgetPrecompressed(); // not asked for: dropped, and the helper stopped
const afterwards = await gzip(body(PRECOMPRESS_AT, 5));
lines.push({ case: "forgotten", used: dropped + forgetPrecompressed(),
  restored: same(gunzipSync(afterwards), body(PRECOMPRESS_AT, 5)) });

process.stdout.write(lines.map((line) => JSON.stringify(line)).join("\n"));
