import { MessageChannel } from 'node:worker_threads';

/**
 * Frees `memory` now, not at this thread's next full collection: it is moved into
 * a channel that is closed before anyone reads it, which drops the message and
 * the memory with it (within a turn of the event loop). A view of it left here
 * is empty afterwards. For buffers of several MB that die at a known moment: V8
 * would keep them until external memory had grown by 64 MB.
 */
export function freeNow(memory: ArrayBuffer): void {
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(null, [memory]);
  port1.close();
  port2.close();
}
