// Entry of a parse thread: parses the CSV blocks of every running job (the pool
// of `WORKER_THREADS` the jobs share). Blocks and their NDJSON are moved, not
// copied, straight between the job's thread and this one (see openDirectChannel).
import type { MessagePort } from 'node:worker_threads';
import { parseBlock, type BlockContext, type BlockResult } from '../csv/parse-block.ts';
import { answerDirect, takeDirect } from '../workers/direct-channel.ts';
import { freeNow } from '../workers/free-now.ts';
import { lowerThreadPriority } from '../workers/lower-thread-priority.ts';
import { serveTasks } from '../workers/serve-tasks.ts';
import { transferable } from '../workers/transferable.ts';

/**
 * One task: what parsing a block needs, and the channel that carries the block
 * (a `Buffer` arrives as a `Uint8Array`, at the start of the memory it moved in)
 * and takes back its NDJSON pieces. The task's result is the block's result
 * without them (`ndjson` empty).
 */
export interface ParseBlockTask {
  readonly port: MessagePort;
  readonly context: BlockContext;
}

/**
 * Parse threads yield to the service's other threads when the cores are busy:
 * the main thread answers HTTP (health checks among it) and the job threads move
 * bytes to and from S3; both wait on the parse work otherwise.
 */
const PARSE_THREAD_NICE = 10;
lowerThreadPriority(PARSE_THREAD_NICE);

serveTasks<ParseBlockTask, never, BlockResult>(async ({ port, context }) => {
  try {
    const bytes = takeDirect(port) as Uint8Array;
    const result = await parseBlock(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), context);
    answerDirect(port, result.ndjson, transferable(...result.ndjson));
    // The block dies here: its memory goes now, with no collection of this thread's heap (its NDJSON has left).
    freeNow(bytes.buffer as ArrayBuffer);
    return { ...result, ndjson: [] };
  } finally {
    port.close();
  }
});
