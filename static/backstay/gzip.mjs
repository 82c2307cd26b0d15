// gzip (RFC 1952) by the browser's own CompressionStream: native code, about twice as fast as
// pako in the worker, for the large blobs of checkpoints. The output is ordinary gzip, so any
// reader (pako, Python's gzip module) decompresses it.

export async function gzip(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
