/**
 * A full collection of this thread's heap when the process runs with
 * `--expose-gc` (the image does); nothing otherwise. V8 frees a dead buffer's
 * memory only when it collects its owner, and it starts a full collection only
 * once external memory has grown by 64 MB since the last one, per thread: a
 * thread that passes whole blocks of several MB around would hold that much
 * dead memory at times. Collecting after each block keeps it to one block.
 */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}
