import { Readable } from 'node:stream';

export interface PeekHeadOptions {
  /** Stop once this many line feeds have been read. */
  readonly lines: number;
  /** Stop once this many bytes have been read. */
  readonly limit: number;
}

export interface PeekedHead {
  /** The first bytes of the stream (at least `lines` lines, or `limit` bytes, or all of it). */
  readonly head: Buffer;
  /** The stream to read from now on, head included: the same stream, or a new one when the peek reached its end. */
  readonly stream: Readable;
}

/**
 * Reads the first lines of a byte stream and puts them back (`unshift`), for a
 * stage that must see the head before it can be built (delimiter detection).
 * Reads at most `limit` bytes plus one chunk; the stream's errors reject.
 */
export function peekHead(stream: Readable, options: PeekHeadOptions): Promise<PeekedHead> {
  const { lines, limit } = options;
  return new Promise((resolve, reject) => {
    // Chunks read so far, their size, and the line feeds seen in them.
    const chunks: Buffer[] = [];
    let size = 0;
    let feeds = 0;

    const cleanup = () => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const onReadable = () => {
      for (let chunk: Buffer | null = stream.read(); chunk !== null; chunk = stream.read()) {
        chunks.push(chunk);
        size += chunk.length;
        for (let at = chunk.indexOf(10); at !== -1 && feeds < lines; at = chunk.indexOf(10, at + 1)) feeds += 1;
        if (feeds >= lines || size >= limit) {
          cleanup();
          const head = Buffer.concat(chunks, size);
          stream.unshift(head);
          resolve({ head, stream });
          return;
        }
      }
    };
    const onEnd = () => {
      cleanup();
      const head = Buffer.concat(chunks, size);
      resolve({ head, stream: Readable.from(size === 0 ? [] : [head], { objectMode: false }) });
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onClose = () => {
      cleanup();
      reject(stream.errored ?? new Error('The stream closed before its first lines could be read.'));
    };
    stream.on('readable', onReadable);
    stream.once('end', onEnd);
    stream.once('error', onError);
    stream.once('close', onClose);
  });
}
