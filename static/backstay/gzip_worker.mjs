// The worker that compresses the bodies the first start reads while the engine indexes them
// (gzip.mjs, `precompress`): {id, bytes} in, {id, gzipped} or {id, error} out.

import { gzipHere } from "./gzip.mjs";

self.onmessage = async ({ data }) => {
  try {
    const gzipped = await gzipHere(data.bytes);
    self.postMessage({ id: data.id, gzipped }, [gzipped.buffer]);
  } catch (error) {
    self.postMessage({ id: data.id, error: String(error) });
  }
};
