// Entry of a parse thread: parses the CSV blocks of every running job (the pool
// of `WORKER_THREADS` the jobs share). Blocks and their NDJSON are moved, not
// copied, straight between the job's thread and this one (see openDirectChannel).
import type { MessagePort } from 'node:worker_threads';
import { parseBlock, type BlockContext, type BlockResult } from '../csv/parse-block.ts';
import { answerDirect, takeDirect } from '../workers/direct-channel.ts';
import { lowerThreadPriority } from '../workers/lower-thread-priority.ts';
import { serveTasks } from '../workers/serve-tasks.ts';
import { transferable } from '../workers/transferable.ts';

/**
 * One task: what parsing a block needs, and the channel that carries the block
 * (a `Buffer` arrives as a `Uint8Array`, the start of the room it moved in) and
 * takes back a `ParseBlockAnswer`. The task's result is the block's result
 * without its NDJSON (`ndjson` empty).
 */
export interface ParseBlockTask {
  readonly port: MessagePort;
  readonly context: BlockContext;
}

/** What the channel takes back, moved: the block's NDJSON pieces, and the room the block came in, for another. */
export interface ParseBlockAnswer {
  readonly ndjson: readonly Uint8Array[];
  readonly room: ArrayBuffer;
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
    const room = bytes.buffer as ArrayBuffer;
    const result = await parseBlock(Buffer.from(room, bytes.byteOffset, bytes.byteLength), context);
    // Nothing big dies here: the block's room and its NDJSON leave with the answer.
    answerDirect(port, { ndjson: result.ndjson, room } satisfies ParseBlockAnswer, [
      ...transferable(...result.ndjson),
      room,
    ]);
    return { ...result, ndjson: [] };
  } finally {
    port.close();
  }
});
