import { Writable } from 'node:stream';

/** What a block's parse writes its NDJSON into. */
export interface PieceCollector {
  /** Write the bytes here. */
  readonly stream: Writable;
  /** The pieces written so far, the last one cut to its length; the collector starts over. */
  take(): Buffer[];
}

/**
 * Gathers a stream's bytes in pieces of `pieceBytes`, each its own memory (never
 * a slice of Node's shared pool), so they can be moved to another thread. A
 * block's NDJSON stays in pieces all the way to the upload, which copies them
 * into its parts: each piece can be freed once copied, and no one buffer the
 * size of the whole block's output is ever made.
 */
export function createPieceCollector(pieceBytes: number): PieceCollector {
  let pieces: Buffer[] = [];
  let current: Buffer | undefined;
  let used = 0;
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (let from = 0; from < chunk.length;) {
        current ??= Buffer.allocUnsafeSlow(pieceBytes);
        const copied = chunk.copy(current, used, from);
        used += copied;
        from += copied;
        if (used === current.length) {
          pieces.push(current);
          current = undefined;
          used = 0;
        }
      }
      callback();
    },
  });
  return {
    stream,
    take() {
      if (current !== undefined && used > 0) {
        const last = Buffer.allocUnsafeSlow(used);
        current.copy(last, 0, 0, used);
        pieces.push(last);
      }
      current = undefined;
      used = 0;
      const taken = pieces;
      pieces = [];
      return taken;
    },
  };
}
