/**
 * The buffers that may be moved to another thread with these views: a view's
 * ArrayBuffer only when the view covers all of it. A small Buffer is a slice
 * of Node's shared 8 KiB pool, which must never be moved (Node 22 refuses the
 * message; moving it would detach every other Buffer in the pool): such a view
 * is copied with the message instead.
 */
export function transferable(...views: readonly ArrayBufferView[]): ArrayBuffer[] {
  return views.flatMap((view) =>
    view.buffer instanceof ArrayBuffer && view.byteOffset === 0 && view.byteLength === view.buffer.byteLength
      ? [view.buffer]
      : [],
  );
}
