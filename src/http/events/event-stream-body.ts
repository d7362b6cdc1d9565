import { Readable } from 'node:stream';
import type { Observable, Subscription } from 'rxjs';

export interface EventStreamBodyOptions {
  /** Bytes buffered for a client that does not read before it is dropped. Default 1 MiB. */
  readonly maxBufferedBytes?: number;
  /** Called once when the stream ends or the client leaves (after unsubscribing). */
  readonly onClose?: () => void;
}

/**
 * A response body that carries an Observable of frames (text, or UTF-8 buffers
 * shared between bodies, written without a copy): it subscribes when
 * the body is first read and unsubscribes when it is destroyed — koa destroys it
 * when the client leaves — so a client that disconnects leaves no subscription
 * behind. The body ends when the Observable completes. A client that reads
 * nothing while more than `maxBufferedBytes` pile up is dropped.
 */
export function eventStreamBody(frames$: Observable<string | Buffer>, options: EventStreamBodyOptions = {}): Readable {
  const { maxBufferedBytes = 1024 * 1024, onClose } = options;
  // The frames$ subscription, from the first read to the end.
  let subscription: Subscription | undefined;
  // Set once the stream has ended or been destroyed.
  let closed = false;

  const body = new Readable({
    read() {
      if (subscription !== undefined || closed) return;
      subscription = frames$.subscribe({
        next: (frame) => {
          if (body.readableLength > maxBufferedBytes) {
            body.destroy(
              new Error(
                `The event stream client read nothing while ${body.readableLength} bytes waited; it was dropped.`,
              ),
            );
            return;
          }
          body.push(frame);
        },
        error: (error: unknown) => body.destroy(error instanceof Error ? error : new Error(String(error))),
        complete: () => body.push(null),
      });
      if (closed) subscription.unsubscribe(); // destroyed while subscribing
    },
    destroy(error, callback) {
      close();
      callback(error);
    },
  });
  body.once('end', close);
  return body;

  function close(): void {
    if (closed) return;
    closed = true;
    subscription?.unsubscribe();
    onClose?.();
  }
}
