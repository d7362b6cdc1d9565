import { filter, firstValueFrom, map, race, scan, shareReplay, startWith, timer, type Observable } from 'rxjs';
import { endsRun } from '../pipeline/job-event.ts';
import type { JobLifecycleEvent } from './job.ts';

export interface RunningJobs {
  /** Ids of jobs started and not yet finished. */
  readonly running$: Observable<ReadonlySet<string>>;
  /** Resolves true when no job runs, or false after `timeoutMs`. */
  idle(timeoutMs: number): Promise<boolean>;
}

/** Follows the lifecycle stream to know which jobs are running (shutdown waits on it). */
export function trackRunningJobs(events$: Observable<JobLifecycleEvent>): RunningJobs {
  const running$ = events$.pipe(
    filter((event) => event.type === 'started' || endsRun(event)),
    scan((running, event) => {
      const next = new Set(running);
      if (event.type === 'started') next.add(event.job.id);
      else next.delete(event.job.id);
      return next;
    }, new Set<string>() as ReadonlySet<string>),
    startWith(new Set<string>() as ReadonlySet<string>),
    shareReplay({ bufferSize: 1, refCount: false }),
  );
  running$.subscribe();
  return {
    running$,
    idle(timeoutMs) {
      return firstValueFrom(
        race(
          running$.pipe(
            filter((running) => running.size === 0),
            map(() => true),
          ),
          timer(timeoutMs).pipe(map(() => false)),
        ),
      );
    },
  };
}
