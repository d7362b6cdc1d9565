export interface GarbageCollector {
  /** Counts bytes of buffers this thread let go of. */
  add(bytes: number): void;
  /** A full collection once `everyBytes` have been let go since the last one. */
  collectIfDue(): void;
}

/**
 * Full collections of this thread's heap when the process runs with
 * `--expose-gc` (the image does); nothing otherwise. V8 frees a dead buffer's
 * memory only when it collects its owner, and it starts a full collection only
 * once external memory has grown by 64 MB since the last one, per thread: a
 * thread that passes whole blocks of several MB around would hold that much
 * dead memory at times. Collecting once `everyBytes` died keeps it to about
 * that; counting bytes, not blocks, spares small jobs a collection each.
 */
export function createGarbageCollector(everyBytes: number): GarbageCollector {
  const gc = (globalThis as { gc?: () => void }).gc;
  let dead = 0;
  return {
    add(bytes) {
      dead += bytes;
    },
    collectIfDue() {
      if (gc === undefined || dead < everyBytes) return;
      dead = 0;
      gc();
    },
  };
}
