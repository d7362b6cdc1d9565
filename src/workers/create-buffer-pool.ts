/** Memory for one piece of work at a time, given back once the work is done with it. */
export interface BufferPool {
  /**
   * A buffer of at least `atLeast` bytes at the start of memory of its own: memory
   * given back, when some waits and is big enough; fresh memory otherwise.
   */
  take(atLeast: number): Buffer;
  /** Memory a `take` gave; kept for a later one while fewer than `keep` wait. Returns whether it was kept. */
  giveBack(memory: ArrayBuffer): boolean;
}

export interface BufferPoolOptions {
  /** What it hands out: `bytes` for any `take` up to that (fresh memory for more, not kept). */
  readonly bytes: number;
  /** Given-back buffers it keeps at most. */
  readonly keep: number;
}

/**
 * Memory that goes round: a thread that fills a buffer of several MB for each
 * piece of work, and gets it back once the work is done, reuses it instead of
 * asking for fresh memory each time. Fresh memory costs a page fault for every
 * page first written, which a tight loop of copies then pays for. It keeps at
 * most `keep` buffers beyond those in use.
 */
export function createBufferPool({ bytes, keep }: BufferPoolOptions): BufferPool {
  const free: ArrayBuffer[] = [];
  return {
    take(atLeast) {
      if (atLeast > bytes) return Buffer.allocUnsafeSlow(atLeast);
      const memory = free.pop();
      return memory === undefined ? Buffer.allocUnsafeSlow(bytes) : Buffer.from(memory);
    },
    giveBack(memory) {
      if (memory.byteLength !== bytes || free.length >= keep) return false;
      free.push(memory);
      return true;
    },
  };
}
