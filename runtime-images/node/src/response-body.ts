// How a function's answer travels: whole (with content-length) when it is complete by the next turn of the
// event loop, as strings, buffers and JSON are; streamed chunk by chunk when it is still being written
// (a ReadableStream the function feeds over time, SSE, Lambda response streaming).

/** Either the whole body, or the chunks already read followed by the rest of the stream. */
export type Body = { whole: Buffer } | { stream: AsyncIterable<Uint8Array> };

const TURN = Symbol('turn');

/** Reads what the stream has now; if it ends before the next event-loop turn the body is whole. */
export async function settle(source: ReadableStream<Uint8Array> | null): Promise<Body> {
  if (!source) return { whole: Buffer.alloc(0) };
  const reader = source.getReader();
  const turn = new Promise<typeof TURN>((resolve) => setImmediate(() => resolve(TURN)));
  const chunks: Uint8Array[] = [];
  for (;;) {
    const next = reader.read();
    const read = await Promise.race([next, turn]);
    if (read === TURN) return { stream: rest(chunks, next, reader) };
    if (read.done) return { whole: chunks.length === 1 ? Buffer.from(chunks[0]!.buffer, chunks[0]!.byteOffset, chunks[0]!.byteLength) : Buffer.concat(chunks) };
    chunks.push(read.value);
  }
}

async function* rest(
  first: Uint8Array[],
  pending: ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']>,
  reader: ReadableStreamDefaultReader<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  try {
    yield* first;
    for (let read = await pending; !read.done; read = await reader.read()) yield read.value;
  } finally {
    // The caller stopped early (the client went away): tell the function's stream.
    reader.cancel().catch(() => {});
  }
}
