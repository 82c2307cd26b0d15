// gzip (RFC 1952) by the browser's own CompressionStream: native code, about twice as fast as
// pako in the worker, for the large blobs of checkpoints. The output is ordinary gzip, so any
// reader (pako, Python's gzip module) decompresses it.
//
// The first start compresses the whole hotel for its baseline's checkpoint. So that this does not
// wait for the reading and indexing before it, the bodies it reads are handed, as they arrive, to
// a worker of their own (gzip_worker.mjs) that compresses them on another thread (`precompress`);
// `gzip` of the same bytes then takes that worker's answer. Anything that fails there (no worker,
// an error in it) only means the bytes are compressed here, as they always were.

import { sameBytes } from "./idb.mjs";

// The bytes are streamed from memory as they are (a Blob of them would be handed to the browser
// process and read back).
export async function gzipHere(bytes) {
  const source = new ReadableStream({ start(controller) { controller.enqueue(bytes); controller.close(); } });
  const stream = source.pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

// Bodies smaller than this are compressed here when asked: handing them over costs more than it
// spares.
export const PRECOMPRESS_AT = 1 << 20;

// A helper's answer not given by then (it compresses 50 MB in about a second) is not waited
// for: the bytes are compressed here.
export const ANSWER_WITHIN_MS = 60_000;

let helper = null;
let asked = 0;
const answers = new Map(); // request number -> {resolve, reject}
const precompressed = []; // {bytes, gzipped: Promise<Uint8Array>}, oldest first
let taken = 0; // how many `gzip` calls took the helper's answer

// Reject every answer still awaited and stop `worker` (the current helper, or one that failed).
function stopHelper(worker, why) {
  for (const { reject } of answers.values()) reject(new Error(why));
  answers.clear();
  if (helper === worker) helper = null;
  worker.terminate();
}

function startHelper() {
  const worker = new Worker(new URL("./gzip_worker.mjs", import.meta.url), { type: "module" });
  const failAll = (why) => stopHelper(worker, why);
  worker.onmessage = ({ data }) => {
    const answer = answers.get(data.id);
    answers.delete(data.id);
    if (!answer) return;
    if (data.gzipped) answer.resolve(data.gzipped);
    else answer.reject(new Error(data.error || "the compressing worker failed"));
  };
  worker.onerror = (event) => { event.preventDefault(); failAll(event.message || "the compressing worker failed"); };
  worker.onmessageerror = () => failAll("the compressing worker's answer could not be read");
  return worker;
}

// Start compressing a copy of `bytes` on the helper thread, for a later `gzip` of the same bytes.
// Kept until `gzip` takes it or `forgetPrecompressed` drops it.
export function precompress(bytes) {
  if (bytes.byteLength < PRECOMPRESS_AT) return;
  try {
    helper = helper || startHelper();
    const id = ++asked;
    const gzipped = new Promise((resolve, reject) => answers.set(id, { resolve, reject }));
    gzipped.catch(() => {}); // a failure is seen (and compressed here instead) by `gzip`
    const copy = bytes.slice(); // the helper's own: the caller still reads these
    try {
      helper.postMessage({ id, bytes: copy }, [copy.buffer]);
    } catch (error) {
      answers.delete(id);
      throw error;
    }
    precompressed.push({ bytes, gzipped });
  } catch (_) {
    // No worker here (a browser or policy without module workers), or the hand-over failed:
    // compressed when asked.
  }
}

// Drop what `precompress` kept and was not asked for, and stop the helper thread. Returns how
// many `gzip` calls took the helper's answer since the last call.
export function forgetPrecompressed() {
  const used = taken;
  taken = 0;
  precompressed.length = 0;
  if (helper) stopHelper(helper, "no longer needed"); // no answer is awaited without a helper
  return used;
}

export async function gzip(bytes) {
  const at = precompressed.findIndex((kept) => kept.bytes.byteLength === bytes.byteLength
    && sameBytes(kept.bytes, bytes));
  if (at >= 0) {
    const [kept] = precompressed.splice(at, 1);
    let timer;
    const late = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error("the compressing worker did not answer")), ANSWER_WITHIN_MS);
    });
    try {
      const gzipped = await Promise.race([kept.gzipped, late]);
      taken++;
      return gzipped;
    } catch (_) {
      // the helper failed: compressed here
    } finally {
      clearTimeout(timer);
    }
  }
  return gzipHere(bytes);
}
