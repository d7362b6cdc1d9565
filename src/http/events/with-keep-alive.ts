import {
  asyncScheduler,
  connect,
  endWith,
  ignoreElements,
  interval,
  map,
  merge,
  takeUntil,
  type Observable,
  type SchedulerLike,
} from 'rxjs';

/** The comment line sent between messages so that proxies and clients see a live connection. */
export const KEEP_ALIVE_FRAME = ': keep-alive\n\n';

/** Adds a keep-alive comment every `intervalMs` to a stream of SSE frames, until the frames end. */
export function withKeepAlive<T extends string | Buffer>(
  frames$: Observable<T>,
  intervalMs: number,
  scheduler: SchedulerLike = asyncScheduler,
): Observable<T | string> {
  return frames$.pipe(
    connect((shared) =>
      merge<(T | string)[]>(
        shared,
        interval(intervalMs, scheduler).pipe(
          map(() => KEEP_ALIVE_FRAME),
          takeUntil(shared.pipe(ignoreElements(), endWith(true))),
        ),
      ),
    ),
  );
}
