import { asapScheduler, Observable, type SchedulerLike, type Subscription } from 'rxjs';

/**
 * Joins the frames that arrive in one turn of the event loop into one UTF-8
 * buffer, emitted on the next turn (`asapScheduler`). Shared by many
 * connections, a burst of events is then encoded once and written as one chunk
 * per client instead of one write per frame per client.
 */
export function batchFrames(frames$: Observable<string>, scheduler: SchedulerLike = asapScheduler): Observable<Buffer> {
  return new Observable<Buffer>((subscriber) => {
    // Frames of the current turn, not yet emitted.
    let pending: string[] = [];
    // The scheduled flush of `pending`, while there is one.
    let scheduled: Subscription | undefined;
    const flush = () => {
      scheduled = undefined;
      if (pending.length === 0) return;
      const text = pending.join('');
      pending = [];
      subscriber.next(Buffer.from(text, 'utf8'));
    };
    const subscription = frames$.subscribe({
      next: (frame) => {
        pending.push(frame);
        scheduled ??= scheduler.schedule(flush);
      },
      error: (error: unknown) => {
        scheduled?.unsubscribe();
        flush();
        subscriber.error(error);
      },
      complete: () => {
        scheduled?.unsubscribe();
        flush();
        subscriber.complete();
      },
    });
    return () => {
      scheduled?.unsubscribe();
      subscription.unsubscribe();
    };
  });
}
