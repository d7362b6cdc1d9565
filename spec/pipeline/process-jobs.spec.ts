import { expect } from 'chai';
import { map, NEVER, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { AppError } from '../../src/errors.ts';
import { backoff } from '../../src/pipeline/backoff.ts';
import type { JobEvent, RunJob, RunUpdate } from '../../src/pipeline/job-event.ts';
import { createJobQueue, type JobSource } from '../../src/pipeline/job-queue.ts';
import { processJobs, type ProcessJobsConfig } from '../../src/pipeline/process-jobs.ts';

interface Job {
  readonly id: string;
}
type Update = RunUpdate<number, string>;
type Event = JobEvent<Job, number, string>;

const jobs = { a: { id: 'a' }, b: { id: 'b' }, c: { id: 'c' } };
const updates: Record<string, Update> = { p: { kind: 'progress', progress: 50 }, d: { kind: 'done', result: 'ok' } };
const unavailable = new AppError('s3_unavailable', 'S3 answered 503.');
const noSuchKey = new AppError('no_such_key', 'The source object does not exist.');

// No `scheduler`: inside TestScheduler.run the default asyncScheduler runs in virtual
// time (run mode patches its interval provider), which the backoff specs rely on.
// `random: () => 1` makes the real backoff exact: 100ms, 200ms, 400ms…
const config: ProcessJobsConfig<Job> = {
  concurrency: 2,
  maxAttempts: 3,
  backoff: backoff({ baseMs: 100, maxMs: 1000, random: () => 1 }),
};

const started = (id: string, attempt = 1): Event => ({ type: 'started', job: { id }, attempt });
const progress = (id: string, attempt = 1): Event => ({ type: 'progress', job: { id }, attempt, progress: 50 });
const succeeded = (id: string, attempt = 1): Event => ({ type: 'succeeded', job: { id }, attempt, result: 'ok' });
const attemptFailed = (id: string, attempt: number, error: unknown, retryInMs: number): Event => ({
  type: 'attempt_failed',
  job: { id },
  attempt,
  error,
  retryInMs,
});
const failed = (id: string, attempt: number, error: unknown): Event => ({
  type: 'failed',
  job: { id },
  attempt,
  error,
});
const cancelled = (id: string, attempt: number): Event => ({ type: 'cancelled', job: { id }, attempt });
const released = (id: string, attempt: number): Event => ({ type: 'released', job: { id }, attempt });

/** A source over marbles: a job may start unless its id was seen on `cancels$` first. */
function fakeSource(
  jobs$: Observable<Job>,
  cancels$: Observable<string> = NEVER,
  releases$?: Observable<string>,
): JobSource<Job> {
  const cancelledIds = new Set<string>();
  cancels$.subscribe((id) => cancelledIds.add(id));
  return {
    jobs$,
    cancels$,
    ...(releases$ === undefined ? {} : { releases$ }),
    claim: (job) => (cancelledIds.has(job.id) ? 'cancelled' : 'start'),
  };
}

/** A runJob answering each job id with its cold observable. */
function runFrom(runs: Record<string, Observable<Update>>): RunJob<Job, number, string> {
  return (job) => {
    const run = runs[job.id];
    if (!run) throw new Error(`No run for job ${job.id}`);
    return run;
  };
}

describe('processJobs', () => {
  let testScheduler: TestScheduler;

  beforeEach(() => {
    testScheduler = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  it('should start a third job only when one of the first two completes', () => {
    testScheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const jobs$ = hot('   a-b-c        ', jobs);
      const runA = cold('   ------d      ', updates);
      const runASubs = '    ^-----!      ';
      const runB = cold('     ----------d', updates);
      const runBSubs = '    --^---------!';
      const runC = cold('         ----d  ', updates);
      const runCSubs = '    ------^---!  ';
      const expected = '    a-b---(sc)t-u';

      expectObservable(processJobs(fakeSource(jobs$), runFrom({ a: runA, b: runB, c: runC }), config)).toBe(expected, {
        a: started('a'),
        b: started('b'),
        s: succeeded('a'),
        c: started('c'),
        t: succeeded('c'),
        u: succeeded('b'),
      });
      expectSubscriptions(runA.subscriptions).toBe(runASubs);
      expectSubscriptions(runB.subscriptions).toBe(runBSubs);
      expectSubscriptions(runC.subscriptions).toBe(runCSubs);
    });
  });

  it('should retry a retryable error after 100ms, then 200ms', () => {
    testScheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const jobs$ = hot('      a                   ', jobs);
      const jobsSubs = '       ^                   ';
      const failing = cold('   --#                 ', updates, unavailable);
      const failingSubs = ['   ^-!                 ', '                      102ms ^-!           '];
      const succeeding = cold('--d                 ', updates);
      const succeedingSubs = ' 304ms ^-!           ';
      const expected = '       a-x 99ms b-y 199ms c-s';

      const runJob: RunJob<Job, number, string> = (_job, { attempt }) => (attempt < 3 ? failing : succeeding);

      expectObservable(processJobs(fakeSource(jobs$), runJob, config)).toBe(expected, {
        a: started('a', 1),
        x: attemptFailed('a', 1, unavailable, 100),
        b: started('a', 2),
        y: attemptFailed('a', 2, unavailable, 200),
        c: started('a', 3),
        s: succeeded('a', 3),
      });
      expectSubscriptions(failing.subscriptions).toBe(failingSubs);
      expectSubscriptions(succeeding.subscriptions).toBe(succeedingSubs);
      expectSubscriptions(jobs$.subscriptions).toBe(jobsSubs);
    });
  });

  it('should not retry a non-retryable error, and go on with the next job', () => {
    testScheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const jobs$ = hot('   a----b  ', jobs);
      const jobsSubs = '    ^       ';
      const runA = cold('   --#     ', updates, noSuchKey);
      const runASubs = '    ^-!     ';
      const runB = cold('        --d', updates);
      const expected = '    a-f--b-s';

      expectObservable(processJobs(fakeSource(jobs$), runFrom({ a: runA, b: runB }), config)).toBe(expected, {
        a: started('a'),
        f: failed('a', 1, noSuchKey),
        b: started('b'),
        s: succeeded('b'),
      });
      expectSubscriptions(runA.subscriptions).toBe(runASubs);
      expectSubscriptions(jobs$.subscriptions).toBe(jobsSubs);
    });
  });

  it('should fail with the last error and attempt number when retries are exhausted, and go on', () => {
    testScheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const lastError = new AppError('s3_unavailable', 'S3 timed out.');
      const jobs$ = hot('   a 399ms b                        ', jobs);
      const jobsSubs = '    ^                                ';
      const flaky = cold('  --#                              ', updates, unavailable);
      const flakySubs = ['  ^-!                              ', '                   102ms ^-!                        '];
      const lastTry = cold('--#                              ', updates, lastError);
      const lastTrySubs = ' 304ms ^-!                        ';
      const runB = cold('   --d                              ', updates);
      const runBSubs = '    400ms ^-!                        ';
      const expected = '    a-x 99ms b-y 199ms c-f 93ms d-s';

      const runJob: RunJob<Job, number, string> = (job, { attempt }) =>
        job.id === 'b' ? runB : attempt < 3 ? flaky : lastTry;

      expectObservable(processJobs(fakeSource(jobs$), runJob, config)).toBe(expected, {
        a: started('a', 1),
        x: attemptFailed('a', 1, unavailable, 100),
        b: started('a', 2),
        y: attemptFailed('a', 2, unavailable, 200),
        c: started('a', 3),
        f: failed('a', 3, lastError),
        d: started('b'),
        s: succeeded('b'),
      });
      expectSubscriptions(flaky.subscriptions).toBe(flakySubs);
      expectSubscriptions(lastTry.subscriptions).toBe(lastTrySubs);
      expectSubscriptions(runB.subscriptions).toBe(runBSubs);
      expectSubscriptions(jobs$.subscriptions).toBe(jobsSubs);
    });
  });

  it('should contain a synchronous throw of runJob as a failed event', () => {
    testScheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const boom = new TypeError('runJob threw before returning an observable');
      const jobs$ = hot('   a---b  ', jobs);
      const jobsSubs = '    ^      ';
      const runB = cold('       --d', updates);
      const expected = '    (af)b-s';

      const runJob: RunJob<Job, number, string> = (job) => {
        if (job.id === 'a') throw boom;
        return runB;
      };

      expectObservable(processJobs(fakeSource(jobs$), runJob, config)).toBe(expected, {
        a: started('a'),
        f: failed('a', 1, boom),
        b: started('b'),
        s: succeeded('b'),
      });
      expectSubscriptions(jobs$.subscriptions).toBe(jobsSubs);
    });
  });

  it('should complete only after the running jobs finish when the source completes', () => {
    testScheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const jobs$ = hot('   a-b|         ', jobs);
      const jobsSubs = '    ^--!         ';
      const runA = cold('   -----d       ', updates);
      const runB = cold('     -------d   ', updates);
      const expected = '    a-b--s---(t|)';

      expectObservable(processJobs(fakeSource(jobs$), runFrom({ a: runA, b: runB }), config)).toBe(expected, {
        a: started('a'),
        b: started('b'),
        s: succeeded('a'),
        t: succeeded('b'),
      });
      expectSubscriptions(jobs$.subscriptions).toBe(jobsSubs);
    });
  });

  it('should not start a job cancelled while it waits, reporting it at its turn when the source has no withdrawn$', () => {
    testScheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const jobs$ = hot('    ab------c  ', jobs);
      const cancels$ = hot(' --b        ');
      const runA = cold('    ----d      ', updates);
      const runB = cold('    d          ', updates);
      const runC = cold('            --d', updates);
      const expected = '     a---(sx)c-t';

      const source = fakeSource(jobs$, cancels$);
      expectObservable(processJobs(source, runFrom({ a: runA, b: runB, c: runC }), { ...config, concurrency: 1 })).toBe(
        expected,
        { a: started('a'), s: succeeded('a'), x: cancelled('b', 0), c: started('c'), t: succeeded('c') },
      );
      expectSubscriptions(runB.subscriptions).toBe([]);
    });
  });

  it('should unsubscribe a running job at the cancel frame', () => {
    testScheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const jobs$ = hot('    a------b  ', jobs);
      const jobsSubs = '     ^         ';
      const cancels$ = hot(' ---a      ');
      const runA = cold('    -p------d ', updates);
      const runASubs = '     ^--!      ';
      const runB = cold('           --d', updates);
      const expected = '     ap-x---b-s';

      expectObservable(processJobs(fakeSource(jobs$, cancels$), runFrom({ a: runA, b: runB }), config)).toBe(expected, {
        a: started('a'),
        p: progress('a'),
        x: cancelled('a', 1),
        b: started('b'),
        s: succeeded('b'),
      });
      expectSubscriptions(runA.subscriptions).toBe(runASubs);
      expectSubscriptions(jobs$.subscriptions).toBe(jobsSubs);
    });
  });

  it('should drop the pending retry of a job cancelled during its backoff', () => {
    testScheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const jobs$ = hot('    a         ', jobs);
      const cancels$ = hot(' 50ms a    ');
      const runA = cold('    --#       ', updates, unavailable);
      const runASubs = '     ^-!       ';
      const expected = '     a-x 47ms c';

      expectObservable(processJobs(fakeSource(jobs$, cancels$), runFrom({ a: runA }), config)).toBe(expected, {
        a: started('a'),
        x: attemptFailed('a', 1, unavailable, 100),
        c: cancelled('a', 1),
      });
      expectSubscriptions(runA.subscriptions).toBe(runASubs);
    });
  });

  it('should unsubscribe a released running job at the release frame, with released and no terminal event', () => {
    testScheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const jobs$ = hot('     a-b-------c  ', jobs);
      const jobsSubs = '      ^            ';
      const releases$ = hot(' ----a--b     ');
      const runA = cold('     -p------d    ', updates);
      const runASubs = '      ^---!        ';
      const runB = cold('       -p------d  ', updates);
      const runBSubs = '      --^----!     ';
      const runC = cold('               --d', updates);
      const expected = '      apbqr--y--c-s';

      const source = fakeSource(jobs$, NEVER, releases$);
      expectObservable(processJobs(source, runFrom({ a: runA, b: runB, c: runC }), config)).toBe(expected, {
        a: started('a'),
        p: progress('a'),
        b: started('b'),
        q: progress('b'),
        r: released('a', 1),
        y: released('b', 1),
        c: started('c'),
        s: succeeded('c'),
      });
      expectSubscriptions(runA.subscriptions).toBe(runASubs);
      expectSubscriptions(runB.subscriptions).toBe(runBSubs);
      expectSubscriptions(jobs$.subscriptions).toBe(jobsSubs);
    });
  });

  it('should drop the pending retry of a job released during its backoff, and ignore a release after the end', () => {
    testScheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const jobs$ = hot('     a-------b                ', jobs);
      const releases$ = hot(' ------------b 37ms a     ');
      const runA = cold('     --#                      ', updates, unavailable);
      const runASubs = '      ^-!                      ';
      const runB = cold('             --d              ', updates);
      const expected = '      a-x-----b-s 39ms r       ';

      expectObservable(processJobs(fakeSource(jobs$, NEVER, releases$), runFrom({ a: runA, b: runB }), config)).toBe(
        expected,
        {
          a: started('a'),
          x: attemptFailed('a', 1, unavailable, 100),
          r: released('a', 1),
          b: started('b'),
          s: succeeded('b'),
        },
      );
      expectSubscriptions(runA.subscriptions).toBe(runASubs);
    });
  });

  it('should neither start nor report a waiting job of a real queue that is released', () => {
    const queue = createJobQueue<Job>({ capacity: 10 });
    testScheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const actions = hot('  e-r------c', {
        e: () => queue.enqueue([jobs.a, jobs.b]),
        r: () => queue.release('b'),
        c: () => queue.close(),
      });
      const runA = cold('    ----d     ', updates);
      const runB = cold('    d         ', updates);
      const expected = '     a---s----|';

      actions.subscribe((act) => act());
      expectObservable(processJobs(queue, runFrom({ a: runA, b: runB }), { ...config, concurrency: 1 })).toBe(
        expected,
        { a: started('a'), s: succeeded('a') },
      );
      expectSubscriptions(runB.subscriptions).toBe([]);
    });
    expect(queue.size()).to.equal(0);
  });

  it('should report a waiting job of a real queue as cancelled at the cancel, never start it, and complete when the queue closes', () => {
    const queue = createJobQueue<Job>({ capacity: 10 });
    let cancelledWhileWaiting: boolean | undefined;
    testScheduler.run(({ hot, cold, expectObservable }) => {
      const actions = hot('  e-x------c', {
        e: () => queue.enqueue([jobs.a, jobs.b]),
        x: () => {
          cancelledWhileWaiting = queue.cancel('b');
        },
        c: () => queue.close(),
      });
      const runA = cold('    ----d     ', updates);
      const expected = '     a-x-s----|';

      actions.subscribe((act) => act());
      expectObservable(processJobs(queue, runFrom({ a: runA }), { ...config, concurrency: 1 })).toBe(expected, {
        a: started('a'),
        s: succeeded('a'),
        x: cancelled('b', 0),
      });
    });
    expect(cancelledWhileWaiting).to.equal(true);
    expect(queue.size()).to.equal(0);
  });

  it('should let a running job finish but neither start nor report jobs held for shutdown', () => {
    const queue = createJobQueue<Job>({ capacity: 10 });
    testScheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const actions = hot('  e-h------c', {
        e: () => queue.enqueue([jobs.a, jobs.b]),
        h: () => queue.hold(),
        c: () => queue.close(),
      });
      const runA = cold('    ----d     ', updates);
      const runB = cold('    d         ', updates);
      const expected = '     a---s----|';

      actions.subscribe((act) => act());
      expectObservable(processJobs(queue, runFrom({ a: runA, b: runB }), { ...config, concurrency: 1 })).toBe(
        expected,
        { a: started('a'), s: succeeded('a') },
      );
      expectSubscriptions(runB.subscriptions).toBe([]);
    });
  });

  it('should fail with an internal error when runJob completes without done', () => {
    testScheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const jobs$ = hot('   a---b  ', jobs);
      const jobsSubs = '    ^      ';
      const runA = cold('   -p|    ', updates);
      const runASubs = '    ^-!    ';
      const runB = cold('       --d', updates);
      const expected = '    apf-b-s';

      // The error is made inside the pipeline: compare its code.
      const codes = map((event: Event) =>
        'error' in event ? { ...event, error: (event.error as AppError).code } : event,
      );
      expectObservable(processJobs(fakeSource(jobs$), runFrom({ a: runA, b: runB }), config).pipe(codes)).toBe(
        expected,
        {
          a: started('a'),
          p: progress('a'),
          f: { ...failed('a', 1, null), error: 'internal' },
          b: started('b'),
          s: succeeded('b'),
        },
      );
      expectSubscriptions(runA.subscriptions).toBe(runASubs);
      expectSubscriptions(jobs$.subscriptions).toBe(jobsSubs);
    });
  });

  it('should count prior attempts: with 2 of 3 used, one attempt numbered 3', () => {
    const contexts: string[] = [];
    testScheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const jobs$ = hot('   a----b  ', jobs);
      const jobsSubs = '    ^       ';
      const runA = cold('   --#     ', updates, unavailable);
      const runASubs = '    ^-!     ';
      const runB = cold('        --d', updates);
      const expected = '    a-f--b-s';

      const runs = runFrom({ a: runA, b: runB });
      const runJob: RunJob<Job, number, string> = (job, context) => {
        contexts.push(`${job.id}#${context.attempt}`);
        return runs(job, context);
      };
      const priorAttempts = (job: Job) => (job.id === 'a' ? 2 : 0);

      expectObservable(processJobs(fakeSource(jobs$), runJob, { ...config, priorAttempts })).toBe(expected, {
        a: started('a', 3),
        f: failed('a', 3, unavailable),
        b: started('b', 1),
        s: succeeded('b', 1),
      });
      expectSubscriptions(runA.subscriptions).toBe(runASubs);
      expectSubscriptions(jobs$.subscriptions).toBe(jobsSubs);
    });
    expect(contexts).to.deep.equal(['a#3', 'b#1']);
  });

  it('should start the backoff afresh after prior attempts', () => {
    testScheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const jobs$ = hot('      a           ', jobs);
      const failing = cold('   --#         ', updates, unavailable);
      const failingSubs = '    ^-!         ';
      const succeeding = cold('--d         ', updates);
      const succeedingSubs = ' 102ms ^-!   ';
      const expected = '       a-x 99ms b-s';

      const runJob: RunJob<Job, number, string> = (_job, { attempt }) => (attempt < 3 ? failing : succeeding);

      expectObservable(processJobs(fakeSource(jobs$), runJob, { ...config, priorAttempts: () => 1 })).toBe(expected, {
        a: started('a', 2),
        x: attemptFailed('a', 2, unavailable, 100),
        b: started('a', 3),
        s: succeeded('a', 3),
      });
      expectSubscriptions(failing.subscriptions).toBe(failingSubs);
      expectSubscriptions(succeeding.subscriptions).toBe(succeedingSubs);
    });
  });
});
