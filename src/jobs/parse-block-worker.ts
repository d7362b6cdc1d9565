// Entry of a parse thread: parses the CSV blocks of every running job (the pool
// of `WORKER_THREADS` the jobs share). Blocks and their NDJSON are moved, not copied.
import { parseBlock, type BlockContext, type BlockResult } from '../csv/parse-block.ts';
import { createGarbageCollector } from '../workers/collect-garbage.ts';
import { lowerThreadPriority } from '../workers/lower-thread-priority.ts';
import { serveTasks } from '../workers/serve-tasks.ts';
import { transferable } from '../workers/transferable.ts';

/** One task: a block and what parsing it needs (a `Buffer` arrives as a `Uint8Array`). */
export interface ParseBlockTask {
  readonly bytes: Uint8Array;
  readonly context: BlockContext;
}

/**
 * Parse threads yield to the service's other threads when the cores are busy:
 * the main thread answers HTTP (health checks among it) and the job threads move
 * bytes to and from S3; both wait on the parse work otherwise.
 */
const PARSE_THREAD_NICE = 10;
lowerThreadPriority(PARSE_THREAD_NICE);

// One default block's worth (CSV_BLOCK_BYTES is not known here): every big block, rarely a small one.
const garbage = createGarbageCollector(8 * 1024 * 1024);

serveTasks<ParseBlockTask, never, BlockResult>(
  async ({ bytes, context }) => {
    const result = await parseBlock(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), context);
    garbage.add(result.ndjson.reduce((total, piece) => total + piece.byteLength, bytes.byteLength));
    // Once the result has left: the block and its pieces are dead by then.
    setImmediate(garbage.collectIfDue);
    return result;
  },
  { transferOf: (result) => transferable(...result.ndjson) },
);
