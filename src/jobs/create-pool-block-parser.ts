import { copyToOwnMemory } from '../csv/copy-to-own-memory.ts';
import type { BlockResult } from '../csv/parse-block.ts';
import type { BlockParser } from '../csv/parse-csv-in-blocks.ts';
import type { GarbageCollector } from '../workers/collect-garbage.ts';
import { openDirectChannel } from '../workers/direct-channel.ts';
import type { ParseBlockTask } from './parse-block-worker.ts';

export interface PoolBlockParserOptions {
  /** Runs a task on the parse pool, moving its port with it. */
  readonly run: (task: ParseBlockTask) => Promise<BlockResult>;
  /** Counts what dies on this thread (with `--expose-gc`, collected once enough has). */
  readonly garbage?: GarbageCollector;
}

/**
 * Parses a job's blocks on the shared parse pool. The block and its NDJSON move
 * straight between this thread and the parse thread (see openDirectChannel),
 * which frees the block once parsed. A transform pipeline's block is copied
 * instead: it is parsed again should the scan have miscounted the lines before it.
 */
export function createPoolBlockParser({ run, garbage }: PoolBlockParserOptions): BlockParser {
  return async (block, context) => {
    const cut = block.bytes.byteLength;
    const sent = context.pipeline.transform === undefined ? block.bytes : copyToOwnMemory([block.bytes]);
    // A block starts memory of its own, its room: the whole room moves, past the block's end too.
    const channel = openDirectChannel(sent, [sent.buffer as ArrayBuffer]);
    // The chunks the block was cut from died as it was gathered; with them, what the uploads copied since.
    garbage?.add(cut);
    garbage?.collectIfDue();
    try {
      const result = await run({ port: channel.port, context });
      // Moved buffers arrive as plain Uint8Arrays.
      const ndjson = (channel.answer() as Uint8Array[]).map((piece) =>
        Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength),
      );
      garbage?.add(ndjson.reduce((total, piece) => total + piece.byteLength, 0));
      return { ...result, ndjson };
    } finally {
      channel.close();
    }
  };
}
