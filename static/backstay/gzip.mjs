// gzip (RFC 1952) by the browser's own CompressionStream: native code, about twice as fast as
// pako in the worker, for the large blobs of checkpoints. The output is ordinary gzip, so any
// reader (pako, Python's gzip module) decompresses it.

// The bytes are streamed from memory as they are (a Blob of them would be handed to the browser
// process and read back).
export async function gzip(bytes) {
  const source = new ReadableStream({ start(controller) { controller.enqueue(bytes); controller.close(); } });
  const stream = source.pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
