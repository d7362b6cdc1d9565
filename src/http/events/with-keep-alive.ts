import { asyncScheduler, connect, endWith, ignoreElements, interval, map, merge, takeUntil, type Observable, type SchedulerLike } from 'rxjs';

/** The comment line sent between messages so that proxies and clients see a live connection. */
export const KEEP_ALIVE_FRAME = ': keep-alive\n\n';

/** Adds a keep-alive comment every `intervalMs` to a stream of SSE frames, until the frames end. */
export function withKeepAlive(frames$: Observable<string>, intervalMs: number, scheduler: SchedulerLike = asyncScheduler): Observable<string> {
  return frames$.pipe(connect((shared) => merge(
    shared,
    interval(intervalMs, scheduler).pipe(
      map(() => KEEP_ALIVE_FRAME),
      takeUntil(shared.pipe(ignoreElements(), endWith(true))),
    ),
  )));
}
